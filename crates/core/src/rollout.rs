//! Rollout entries in the official line format (agent-core §6.2): what a turn appends to its
//! thread's JSONL file, and how each entry is spelled so the official runtime can read it too.

use crate::settings::{approval_policy_name, sandbox_policy_rollout, ThreadSettings};
use codex_protocol::v2::{ThreadItem, ThreadTokenUsage, TokenUsageBreakdown, TurnError};
use codex_store::RolloutEntry;
use serde_json::{json, Value};

pub fn response_item(item: &Value) -> RolloutEntry {
    entry("response_item", item.clone())
}

fn entry(kind: &str, payload: Value) -> RolloutEntry {
    RolloutEntry {
        kind: kind.to_string(),
        payload,
    }
}

fn event(payload: Value) -> RolloutEntry {
    entry("event_msg", payload)
}

pub fn task_started(turn_id: &str, started_at: i64, context_window: i64) -> RolloutEntry {
    event(json!({
        "type": "task_started",
        "turn_id": turn_id,
        "root_turn_id": turn_id,
        "started_at": started_at,
        "model_context_window": context_window,
        "collaboration_mode_kind": "default",
    }))
}

pub fn turn_context(turn_id: &str, s: &ThreadSettings) -> RolloutEntry {
    entry(
        "turn_context",
        json!({
            "turn_id": turn_id,
            "cwd": s.cwd,
            "approval_policy": approval_policy_name(&s.approval_policy),
            "sandbox_policy": sandbox_policy_rollout(&s.sandbox),
            "model": s.model,
            "developer_instructions": s.developer_instructions,
            "effort": s.effort,
            "summary": s.summary.map(|x| serde_json::to_value(x).unwrap_or(Value::Null)).unwrap_or(json!("auto")),
        }),
    )
}

/// `item_completed` event. User and agent messages use the official core spelling
/// (`UserMessage`, `AgentMessage`) so the official runtime can rebuild them; other items carry
/// the v2 wire item, which our reader understands and the official one skips.
pub fn item_completed(
    thread_id: &str,
    turn_id: &str,
    item: &ThreadItem,
    started_ms: i64,
    completed_ms: i64,
) -> RolloutEntry {
    let item_value = match item {
        ThreadItem::UserMessage { id, content, .. } => json!({
            "type": "UserMessage", "id": id, "content": content,
        }),
        ThreadItem::AgentMessage {
            id, text, phase, ..
        } => json!({
            "type": "AgentMessage", "id": id, "content": [{"type": "Text", "text": text}], "phase": phase,
        }),
        other => serde_json::to_value(other).unwrap_or(Value::Null),
    };
    event(json!({
        "type": "item_completed",
        "thread_id": thread_id,
        "turn_id": turn_id,
        "item": item_value,
        "started_at_ms": started_ms,
        "completed_at_ms": completed_ms,
    }))
}

/// The legacy `user_message` / `agent_message` events that readers of non-paginated threads
/// (the official runtime among them) rebuild turns from; written beside `item_completed`.
pub fn legacy_message_event(item: &ThreadItem) -> Option<RolloutEntry> {
    match item {
        ThreadItem::UserMessage { content, .. } => {
            let text = content
                .iter()
                .filter_map(|c| match c {
                    codex_protocol::v2::UserInput::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            Some(event(json!({
                "type": "user_message",
                "message": text,
                "images": [],
                "local_images": [],
                "text_elements": [],
            })))
        }
        ThreadItem::AgentMessage { text, .. } => Some(event(json!({
            "type": "agent_message",
            "message": text,
        }))),
        _ => None,
    }
}

fn usage_snake(u: &TokenUsageBreakdown) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "cached_input_tokens": u.cached_input_tokens,
        "cache_write_input_tokens": u.cache_write_input_tokens,
        "output_tokens": u.output_tokens,
        "reasoning_output_tokens": u.reasoning_output_tokens,
        "total_tokens": u.total_tokens,
    })
}

pub fn token_count(usage: &ThreadTokenUsage) -> RolloutEntry {
    event(json!({
        "type": "token_count",
        "info": {
            "total_token_usage": usage_snake(&usage.total),
            "last_token_usage": usage_snake(&usage.last),
            "model_context_window": usage.model_context_window,
        },
        "rate_limits": null,
    }))
}

pub struct TurnEnd<'a> {
    pub turn_id: &'a str,
    pub last_agent_message: Option<&'a str>,
    pub error: Option<&'a TurnError>,
    pub started_at: i64,
    pub completed_at: i64,
    pub duration_ms: i64,
    /// The turn's own usage (beyond the official format; ignored by other readers).
    pub usage: Option<&'a ThreadTokenUsage>,
}

pub fn task_complete(end: &TurnEnd<'_>) -> RolloutEntry {
    let mut payload = json!({
        "type": "task_complete",
        "turn_id": end.turn_id,
        "root_turn_id": end.turn_id,
        "last_agent_message": end.last_agent_message,
        "started_at": end.started_at,
        "completed_at": end.completed_at,
        "duration_ms": end.duration_ms,
    });
    if let Some(err) = end.error {
        payload["error"] = json!({
            "message": err.message,
            "codex_error_info": err.codex_error_info,
        });
    }
    if let Some(u) = end.usage {
        payload["turn_usage"] = serde_json::to_value(u).unwrap_or(Value::Null);
    }
    event(payload)
}

pub fn turn_aborted(end: &TurnEnd<'_>) -> RolloutEntry {
    event(json!({
        "type": "turn_aborted",
        "turn_id": end.turn_id,
        "root_turn_id": end.turn_id,
        "reason": "interrupted",
        "started_at": end.started_at,
        "completed_at": end.completed_at,
        "duration_ms": end.duration_ms,
    }))
}

pub fn compacted(message: &str, replacement_history: &[Value]) -> RolloutEntry {
    entry(
        "compacted",
        json!({"message": message, "replacement_history": replacement_history}),
    )
}

/// The text of a message: its content parts' `text`, concatenated. Serves Responses items
/// (`output_text` parts) and the official `AgentMessage` rollout items (`Text` parts) alike.
pub fn content_text(message: &Value) -> String {
    message["content"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default()
}

/// The Responses API message for user input (images become `input_image`).
pub fn user_message_item(content: Vec<Value>) -> Value {
    json!({"type": "message", "role": "user", "content": content})
}
