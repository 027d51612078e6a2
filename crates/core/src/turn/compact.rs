//! Compaction: summarise the history with the model, then replace it with the recent user
//! messages plus the summary. Runs as its own turn (`thread/compact/start`) or inline, before a
//! sampling request, when usage crosses the auto-compaction limit.

use super::outcome::Stop;
use super::recorder::Recorder;
use super::stream::Exchange;
use crate::clock::now_ms;
use crate::config::Settings;
use crate::history::is_injected_context;
use crate::rollout;
use crate::settings::ThreadSettings;
use codex_protocol::v2::{CodexErrorInfo, CodexErrorKind, ThreadItem, TurnError};
use serde_json::{json, Value};

/// Recent user messages kept verbatim after compaction, in bytes (about 20k tokens).
const KEPT_USER_BYTES: usize = 80_000;

const COMPACT_PROMPT: &str = "Summarise this conversation for a colleague who will take over the \
task without seeing it. Cover: the goal, what was done and decided, the constraints and user \
preferences, the current state of files and commands, and what remains to do, with every \
identifier, path and value they will need. Answer with the summary only.";

const SUMMARY_PREFIX: &str = "Earlier parts of this conversation were replaced by the summary \
below, written by a model that worked on the same task. Build on it instead of redoing work:";

/// Whether the thread's last measured usage crossed the auto-compaction limit.
pub async fn needs_auto_compaction(rec: &Recorder, base: &Settings) -> bool {
    let limit = base
        .auto_compact_token_limit
        .unwrap_or(rec.context_window * 9 / 10);
    let st = rec.thread.state.lock().await;
    st.usage.last.total_tokens > 0 && st.usage.last.total_tokens >= limit
}

fn user_text(item: &Value) -> Option<String> {
    if item["type"] != "message" || item["role"] != "user" || is_injected_context(item) {
        return None;
    }
    let text: String = item["content"]
        .as_array()?
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    (!text.starts_with(SUMMARY_PREFIX) && !text.starts_with("<turn_aborted>")).then_some(text)
}

/// The history after compaction: newest real user messages within the budget, then the summary.
fn replacement_history(history: &[Value], summary: &str) -> Vec<Value> {
    let mut kept = Vec::new();
    let mut budget = KEPT_USER_BYTES;
    for text in history.iter().rev().filter_map(user_text) {
        if budget == 0 {
            break;
        }
        let mut cut = text.len().min(budget);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        budget -= cut;
        kept.push(text[..cut].to_string());
    }
    kept.reverse();
    let mut out: Vec<Value> = kept
        .into_iter()
        .map(|t| rollout::user_message_item(vec![json!({"type": "input_text", "text": t})]))
        .collect();
    out.push(rollout::user_message_item(vec![
        json!({"type": "input_text", "text": summary}),
    ]));
    out
}

/// Runs one compaction inside the turn, emitting a `contextCompaction` item. `exchange` must
/// not announce items (the summary is not an agent message).
pub async fn compact(
    rec: &mut Recorder,
    exchange: &Exchange<'_>,
    settings: &ThreadSettings,
    base: &Settings,
) -> Result<(), Stop> {
    let item = ThreadItem::ContextCompaction {
        id: uuid::Uuid::now_v7().to_string(),
    };
    let started = now_ms();
    rec.emit_item_started(&item, started).await;
    let prompt = base
        .compact_prompt
        .clone()
        .unwrap_or_else(|| COMPACT_PROMPT.to_string());
    let body = {
        let st = rec.thread.state.lock().await;
        let mut history = st.history.clone();
        history.push(rollout::user_message_item(vec![
            json!({"type": "input_text", "text": prompt}),
        ]));
        let mut body = crate::prompt::request_body(&crate::prompt::PromptParts {
            settings,
            thread_id: &rec.thread_id,
            history: &history,
            tools: Vec::new(),
            output_schema: None,
            project_docs: st.project_docs.as_deref(),
            skills: None,
        });
        body["parallel_tool_calls"] = json!(false);
        body
    };
    let outputs = exchange.run(rec, body).await?;
    let summary_text = outputs
        .iter()
        .rev()
        .find(|o| o["type"] == "message")
        .map(rollout::content_text)
        .unwrap_or_default();
    if summary_text.trim().is_empty() {
        return Err(Stop::Failed(TurnError::new(
            "compaction failed: the model returned no summary",
            CodexErrorInfo::Kind(CodexErrorKind::Other),
        )));
    }
    let summary = format!("{SUMMARY_PREFIX}\n{summary_text}");
    let replacement = {
        let mut st = rec.thread.state.lock().await;
        let replacement = replacement_history(&st.history, &summary);
        st.history = replacement.clone();
        // The last response measured the old, long history; the next check must not
        // compact again because of it.
        st.usage.last = codex_protocol::v2::TokenUsageBreakdown::default();
        replacement
    };
    rec.persist(vec![rollout::compacted(&summary, &replacement)]);
    rec.complete_item(item, started).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(t: &str) -> Value {
        rollout::user_message_item(vec![json!({"type": "input_text", "text": t})])
    }

    #[test]
    fn replacement_keeps_real_user_messages_then_summary() {
        let history = vec![
            user("<environment_context>x</environment_context>"),
            user("first"),
            json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "a"}]}),
            user("second"),
        ];
        let out = replacement_history(&history, "S");
        let texts: Vec<&str> = out
            .iter()
            .map(|i| i["content"][0]["text"].as_str().unwrap())
            .collect();
        assert_eq!(texts, vec!["first", "second", "S"]);
    }
}
