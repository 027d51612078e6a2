//! Rebuilding a thread from its rollout lines: the model-facing history (Responses items), the
//! client-facing turns with their items, the last token usage, and the last turn settings.
//! Reads files written by us and by the official runtime; lines it does not understand are skipped.

use codex_protocol::v2::{
    ThreadItem, ThreadTokenUsage, TokenUsageBreakdown, Turn, TurnError, TurnItemsView, TurnStatus,
    UserInput,
};
use codex_store::RolloutLine;
use serde_json::Value;

#[derive(Debug, Default)]
pub struct Rebuilt {
    pub history: Vec<Value>,
    pub turns: Vec<Turn>,
    pub usage: Option<ThreadTokenUsage>,
    pub last_model: Option<String>,
    pub base_instructions: Option<String>,
    pub developer_instructions: Option<String>,
    /// The last `turn_context` payload: the settings the thread last ran with.
    pub last_turn_context: Option<Value>,
    /// `session_meta.dynamic_tools`: the client-defined tools the thread was started with.
    pub dynamic_tools: Option<Value>,
}

/// Prefixes of messages the runtime injects as context; they are rebuilt per request, so they
/// are not carried over from files (ours never store them; the official runtime's do).
const CONTEXT_PREFIXES: &[&str] = &[
    "<environment_context>",
    "<permissions instructions>",
    "# AGENTS.md instructions",
    "<user_instructions>",
    "<skills_instructions>",
];

pub fn is_injected_context(item: &Value) -> bool {
    if item["type"] != "message" {
        return false;
    }
    match item["role"].as_str() {
        Some("developer") | Some("system") => true,
        Some("user") => item["content"]
            .as_array()
            .and_then(|c| c.first())
            .and_then(|c| c["text"].as_str())
            .is_some_and(|t| {
                CONTEXT_PREFIXES
                    .iter()
                    .any(|p| t.trim_start().starts_with(p))
            }),
        _ => false,
    }
}

pub fn rebuild(lines: &[RolloutLine]) -> Rebuilt {
    let mut out = Rebuilt::default();
    // Items from the legacy `user_message` / `agent_message` events, per turn index: used for
    // turns that have no `item_completed` events (files of older runtimes).
    let mut legacy: Vec<Vec<ThreadItem>> = Vec::new();
    // Lines a revert removed are skipped (`rollback.rs`); items a client injected are kept.
    let dead = crate::rollback::dead_lines(lines);
    let mut injected = 0u64;
    for (line, _) in lines.iter().zip(dead).filter(|(_, dead)| !dead) {
        let p = &line.payload;
        match line.kind.as_str() {
            "response_item" if injected > 0 || !is_injected_context(p) => {
                injected = injected.saturating_sub(1);
                out.history.push(strip_item_metadata(p));
            }
            "compacted" => {
                if let Some(items) = p["replacement_history"].as_array() {
                    out.history = items
                        .iter()
                        .filter(|i| !is_injected_context(i))
                        .map(strip_item_metadata)
                        .collect();
                } else if let Some(msg) = p["message"].as_str() {
                    out.history = vec![crate::rollout::user_message_item(vec![
                        serde_json::json!({"type": "input_text", "text": msg}),
                    ])];
                }
            }
            "turn_context" => {
                if let Some(m) = p["model"].as_str() {
                    out.last_model = Some(m.to_string());
                }
                out.developer_instructions =
                    p["developer_instructions"].as_str().map(str::to_string);
            }
            "session_meta" => {
                if let Some(text) = p["base_instructions"]["text"].as_str() {
                    out.base_instructions = Some(text.to_string());
                }
                out.dynamic_tools = p.get("dynamic_tools").filter(|t| !t.is_null()).cloned();
            }
            "event_msg" => {
                if let Some(n) = crate::injected::count(p) {
                    injected = n;
                } else if let Some(item) = legacy_item(p, line.ordinal) {
                    if let Some(last) = out.turns.len().checked_sub(1) {
                        legacy.resize_with(out.turns.len(), Vec::new);
                        legacy[last].push(item);
                    }
                } else {
                    apply_event(&mut out, p);
                }
            }
            _ => {}
        }
    }
    for (turn, items) in out.turns.iter_mut().zip(legacy) {
        if turn.items.is_empty() {
            turn.items = items;
        }
    }
    // A turn still open at the end of the file died with its process.
    for turn in &mut out.turns {
        if turn.status == TurnStatus::InProgress {
            turn.status = TurnStatus::Interrupted;
        }
    }
    out
}

/// The history as the model must see it: every tool call has an output right after it (a call
/// whose output was never recorded, because the process died or the thread was forked while the
/// tool ran, gets an "aborted" one), and outputs whose call is missing are dropped. The API
/// rejects a request that breaks either rule, which would wedge the thread for good.
pub fn for_prompt(history: &[Value]) -> Vec<Value> {
    let output_kind = |item: &Value| match item["type"].as_str() {
        Some("function_call_output") => Some("function_call_output"),
        Some("custom_tool_call_output") => Some("custom_tool_call_output"),
        _ => None,
    };
    let call_output_kind = |item: &Value| match item["type"].as_str() {
        Some("function_call") | Some("local_shell_call") => Some("function_call_output"),
        Some("custom_tool_call") => Some("custom_tool_call_output"),
        _ => None,
    };
    let call_ids: std::collections::HashSet<&str> = history
        .iter()
        .filter(|i| call_output_kind(i).is_some())
        .filter_map(|i| i["call_id"].as_str())
        .collect();
    let output_ids: std::collections::HashSet<&str> = history
        .iter()
        .filter(|i| output_kind(i).is_some())
        .filter_map(|i| i["call_id"].as_str())
        .collect();
    let mut out = Vec::with_capacity(history.len());
    for item in history {
        if output_kind(item).is_some() {
            if item["call_id"]
                .as_str()
                .is_some_and(|id| call_ids.contains(id))
            {
                out.push(item.clone());
            }
            continue;
        }
        out.push(item.clone());
        if let (Some(kind), Some(id)) = (call_output_kind(item), item["call_id"].as_str()) {
            if !output_ids.contains(id) {
                out.push(serde_json::json!({"type": kind, "call_id": id, "output": "aborted"}));
            }
        }
    }
    out
}

/// Keeps only the fields the Responses API accepts back (the official files add metadata).
fn strip_item_metadata(item: &Value) -> Value {
    let mut item = item.clone();
    if let Value::Object(map) = &mut item {
        map.remove("metadata");
        map.remove("internal_chat_message_metadata_passthrough");
    }
    item
}

fn apply_event(out: &mut Rebuilt, p: &Value) {
    match p["type"].as_str() {
        Some("task_started") => {
            let id = p["turn_id"].as_str().unwrap_or_default().to_string();
            out.turns.push(Turn {
                id,
                items: Vec::new(),
                items_view: TurnItemsView::Full,
                status: TurnStatus::InProgress,
                error: None,
                started_at: p["started_at"].as_i64(),
                completed_at: None,
                duration_ms: None,
                usage: None,
            });
        }
        Some("item_completed") => {
            let turn_id = p["turn_id"].as_str().unwrap_or_default();
            if let (Some(item), Some(turn)) = (convert_item(&p["item"]), find_turn(out, turn_id)) {
                turn.items.push(item);
            }
        }
        Some("task_complete") => {
            let turn_id = p["turn_id"].as_str().unwrap_or_default();
            if let Some(turn) = find_turn(out, turn_id) {
                turn.error = p.get("error").filter(|e| !e.is_null()).map(|e| TurnError {
                    message: e["message"].as_str().unwrap_or("turn failed").to_string(),
                    codex_error_info: serde_json::from_value(e["codex_error_info"].clone()).ok(),
                    additional_details: None,
                });
                turn.status = if turn.error.is_some() {
                    TurnStatus::Failed
                } else {
                    TurnStatus::Completed
                };
                finish(turn, p);
                turn.usage = serde_json::from_value(p["turn_usage"].clone()).ok();
            }
        }
        Some("turn_aborted") => {
            let turn_id = p["turn_id"].as_str().unwrap_or_default();
            if let Some(turn) = find_turn(out, turn_id) {
                turn.status = TurnStatus::Interrupted;
                finish(turn, p);
            }
        }
        Some("token_count") => {
            let info = &p["info"];
            if !info.is_null() {
                out.usage = Some(ThreadTokenUsage {
                    total: breakdown(&info["total_token_usage"]),
                    last: breakdown(&info["last_token_usage"]),
                    model_context_window: info["model_context_window"].as_i64(),
                });
            }
        }
        _ => {}
    }
}

/// A `user_message` / `agent_message` event as an item (ids derived from the line ordinal).
fn legacy_item(p: &Value, ordinal: Option<u64>) -> Option<ThreadItem> {
    let text = p["message"].as_str().unwrap_or_default().to_string();
    let id = format!("legacy-{}", ordinal.unwrap_or_default());
    match p["type"].as_str()? {
        "user_message" => Some(ThreadItem::UserMessage {
            id,
            content: vec![UserInput::Text {
                text,
                text_elements: Vec::new(),
            }],
            client_id: None,
        }),
        "agent_message" => Some(ThreadItem::AgentMessage {
            id,
            text,
            phase: None,
            memory_citation: None,
        }),
        _ => None,
    }
}

fn finish(turn: &mut Turn, p: &Value) {
    turn.completed_at = p["completed_at"].as_i64();
    turn.duration_ms = p["duration_ms"].as_i64();
}

fn find_turn<'a>(out: &'a mut Rebuilt, turn_id: &str) -> Option<&'a mut Turn> {
    out.turns.iter_mut().rev().find(|t| t.id == turn_id)
}

fn breakdown(v: &Value) -> TokenUsageBreakdown {
    let n = |k: &str| v[k].as_i64().unwrap_or(0);
    TokenUsageBreakdown {
        total_tokens: n("total_tokens"),
        input_tokens: n("input_tokens"),
        cached_input_tokens: n("cached_input_tokens"),
        cache_write_input_tokens: n("cache_write_input_tokens"),
        output_tokens: n("output_tokens"),
        reasoning_output_tokens: n("reasoning_output_tokens"),
    }
}

/// Converts a persisted item: the official core spelling (PascalCase `type`) or our v2 item.
fn convert_item(item: &Value) -> Option<ThreadItem> {
    let id = item["id"].as_str().unwrap_or_default().to_string();
    match item["type"].as_str()? {
        "UserMessage" => {
            let content: Vec<UserInput> =
                serde_json::from_value(item["content"].clone()).unwrap_or_default();
            Some(ThreadItem::UserMessage {
                id,
                content,
                client_id: None,
            })
        }
        "AgentMessage" => Some(ThreadItem::AgentMessage {
            id,
            text: crate::rollout::content_text(item),
            phase: serde_json::from_value(item["phase"].clone()).ok(),
            memory_citation: None,
        }),
        "ContextCompaction" => Some(ThreadItem::ContextCompaction { id }),
        "Plan" => Some(ThreadItem::Plan {
            id,
            text: item["text"].as_str().unwrap_or_default().to_string(),
        }),
        _ => serde_json::from_value(item.clone()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(kind: &str, payload: Value) -> RolloutLine {
        RolloutLine {
            timestamp: String::new(),
            ordinal: None,
            kind: kind.into(),
            payload,
        }
    }

    #[test]
    fn official_lines_rebuild_turns_and_history() {
        let lines = vec![
            line(
                "event_msg",
                json!({"type": "task_started", "turn_id": "t1", "started_at": 5}),
            ),
            line(
                "response_item",
                json!({"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "x"}]}),
            ),
            line(
                "response_item",
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>..."}]}),
            ),
            line(
                "response_item",
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}], "metadata": {}}),
            ),
            line(
                "event_msg",
                json!({"type": "item_completed", "turn_id": "t1", "item": {"type": "UserMessage", "id": "u", "content": [{"type": "text", "text": "hi", "text_elements": []}]}}),
            ),
            line(
                "event_msg",
                json!({"type": "item_completed", "turn_id": "t1", "item": {"type": "AgentMessage", "id": "a", "content": [{"type": "Text", "text": "yo"}]}}),
            ),
            line(
                "event_msg",
                json!({"type": "task_complete", "turn_id": "t1", "completed_at": 6, "duration_ms": 9}),
            ),
            line(
                "event_msg",
                json!({"type": "task_started", "turn_id": "t2", "started_at": 7}),
            ),
        ];
        let r = rebuild(&lines);
        assert_eq!(
            r.history,
            vec![
                json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]})
            ]
        );
        assert_eq!(r.turns.len(), 2);
        assert_eq!(r.turns[0].status, TurnStatus::Completed);
        assert_eq!(r.turns[0].items.len(), 2);
        assert!(
            matches!(&r.turns[0].items[1], ThreadItem::AgentMessage { text, .. } if text == "yo")
        );
        assert_eq!(r.turns[1].status, TurnStatus::Interrupted);
    }

    #[test]
    fn dangling_calls_get_aborted_outputs_and_orphan_outputs_go() {
        let history = vec![
            json!({"type": "function_call", "call_id": "a", "name": "exec_command", "arguments": "{}"}),
            json!({"type": "message", "role": "user", "content": []}),
            json!({"type": "function_call_output", "call_id": "zzz", "output": "orphan"}),
            json!({"type": "custom_tool_call", "call_id": "b", "name": "apply_patch", "input": ""}),
            json!({"type": "custom_tool_call_output", "call_id": "b", "output": "ok"}),
        ];
        let fixed = for_prompt(&history);
        let kinds: Vec<(&str, &str)> = fixed
            .iter()
            .map(|i| {
                (
                    i["type"].as_str().unwrap(),
                    i["call_id"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("function_call", "a"),
                ("function_call_output", "a"),
                ("message", ""),
                ("custom_tool_call", "b"),
                ("custom_tool_call_output", "b"),
            ]
        );
        assert_eq!(fixed[1]["output"], "aborted");
    }

    #[test]
    fn legacy_message_events_fill_turns_without_item_events() {
        let lines = vec![
            line(
                "event_msg",
                json!({"type": "task_started", "turn_id": "t1"}),
            ),
            line("event_msg", json!({"type": "user_message", "message": "q"})),
            line(
                "event_msg",
                json!({"type": "agent_message", "message": "a"}),
            ),
            line(
                "event_msg",
                json!({"type": "task_complete", "turn_id": "t1"}),
            ),
            line(
                "event_msg",
                json!({"type": "task_started", "turn_id": "t2"}),
            ),
            line(
                "event_msg",
                json!({"type": "user_message", "message": "q2"}),
            ),
            line(
                "event_msg",
                json!({"type": "item_completed", "turn_id": "t2", "item": {"type": "UserMessage", "id": "u", "content": [{"type": "text", "text": "q2"}]}}),
            ),
        ];
        let r = rebuild(&lines);
        assert_eq!(r.turns[0].items.len(), 2);
        assert!(
            matches!(&r.turns[0].items[1], ThreadItem::AgentMessage { text, .. } if text == "a")
        );
        assert_eq!(
            r.turns[1].items.len(),
            1,
            "item events win over legacy events"
        );
    }
}
