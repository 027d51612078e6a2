//! Replies the mock can give to a model request, and builders producing realistic
//! Responses API SSE event sequences with caller-chosen ids (so tests are deterministic).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Notify;

/// One SSE event: `event: <event>` + `data: <json>`. An empty `event` omits the `event:` line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SseEvent {
    #[serde(default)]
    pub event: String,
    pub data: Value,
}

impl SseEvent {
    /// An event whose name is the `type` field of `data` (how the Responses API sends them).
    pub fn typed(data: Value) -> Self {
        let event = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Self { event, data }
    }

    /// The wire bytes of this event, terminated by the blank line.
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        if !self.event.is_empty() {
            out.push_str("event: ");
            out.push_str(&self.event);
            out.push('\n');
        }
        out.push_str("data: ");
        out.push_str(&self.data.to_string());
        out.push_str("\n\n");
        out
    }
}

/// What the server does with one model request (one `POST` outside `/_mock/`).
#[derive(Clone, Debug)]
pub enum Reply {
    /// `200 text/event-stream` with these events, then the end of the body.
    Sse(Vec<SseEvent>),
    /// A plain HTTP error (or any status) with a body and an optional `Retry-After` header.
    Status {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
    /// Sends the events, then closes the connection mid-body (no terminating chunk).
    DropAfter { events: Vec<SseEvent> },
    /// Sends the events, then stays silent with the connection open until the client leaves.
    Idle { events: Vec<SseEvent> },
    /// Sends `before`, waits for `gate.notify_one()` (a permit stored earlier also counts),
    /// then sends `after`. Detects the client going away while waiting.
    Gated {
        before: Vec<SseEvent>,
        gate: Arc<Notify>,
        after: Vec<SseEvent>,
    },
    /// Raw body chunks written as-is with the given content type (SSE edge cases, chat streams).
    Raw {
        content_type: String,
        chunks: Vec<String>,
    },
}

impl Reply {
    /// A status reply without `Retry-After`.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Reply::Status {
            status,
            body: body.into(),
            retry_after: None,
        }
    }
}

/// Token usage reported by `response.completed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub total_tokens: i64,
}

impl Default for Usage {
    /// The usage the official captures show for a short answer (120 in, 20 cached, 7 out).
    fn default() -> Self {
        Self {
            input_tokens: 120,
            cached_input_tokens: 20,
            output_tokens: 7,
            reasoning_output_tokens: 0,
            total_tokens: 127,
        }
    }
}

/// `response.created`.
pub fn ev_created(response_id: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.created",
        "response": {"id": response_id, "object": "response", "status": "in_progress"}
    }))
}

/// `response.completed` with usage in the Responses API shape.
pub fn ev_completed(response_id: &str, usage: Usage) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.completed",
        "response": {
            "id": response_id,
            "object": "response",
            "status": "completed",
            "usage": {
                "input_tokens": usage.input_tokens,
                "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
                "output_tokens": usage.output_tokens,
                "output_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
                "total_tokens": usage.total_tokens
            }
        }
    }))
}

/// `response.failed` with `error.code` / `error.message`.
pub fn ev_failed(response_id: &str, code: &str, message: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.failed",
        "response": {
            "id": response_id,
            "object": "response",
            "status": "failed",
            "error": {"code": code, "message": message}
        }
    }))
}

/// `response.output_item.added` for an empty assistant message.
pub fn ev_message_item_added(item_id: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}
    }))
}

/// `response.content_part.added` (real servers send it; clients ignore it).
pub fn ev_content_part_added(item_id: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.content_part.added",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "part": {"type": "output_text", "text": "", "annotations": []}
    }))
}

/// `response.output_text.delta`.
pub fn ev_output_text_delta(item_id: &str, delta: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "delta": delta
    }))
}

/// `response.output_item.done` for a completed assistant message.
pub fn ev_message_item_done(item_id: &str, text: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]
        }
    }))
}

/// `response.reasoning_summary_text.delta`.
pub fn ev_reasoning_summary_delta(item_id: &str, summary_index: i64, delta: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.reasoning_summary_text.delta",
        "item_id": item_id,
        "output_index": 0,
        "summary_index": summary_index,
        "delta": delta
    }))
}

/// `response.output_item.done` for a reasoning item with one summary part.
pub fn ev_reasoning_item(item_id: &str, summary: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "reasoning",
            "id": item_id,
            "summary": [{"type": "summary_text", "text": summary}],
            "encrypted_content": null
        }
    }))
}

/// `response.output_item.done` for a function call; `arguments` is sent as a JSON string.
pub fn ev_function_call_item(call_id: &str, name: &str, arguments: &Value) -> SseEvent {
    let arguments = match arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    };
    SseEvent::typed(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "function_call",
            "id": format!("fc_{call_id}"),
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "arguments": arguments
        }
    }))
}

/// `response.output_item.done` for a freeform (custom) tool call such as apply_patch.
pub fn ev_custom_tool_call_item(call_id: &str, name: &str, input: &str) -> SseEvent {
    SseEvent::typed(json!({
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "custom_tool_call",
            "id": format!("ctc_{call_id}"),
            "status": "completed",
            "call_id": call_id,
            "name": name,
            "input": input
        }
    }))
}

/// Splits `text` into at most `parts` non-empty pieces on character boundaries.
pub fn split_text(text: &str, parts: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let parts = parts.clamp(1, chars.len());
    let size = chars.len().div_ceil(parts);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

/// A complete assistant answer streamed in three deltas. The message id is `msg_<response_id>`.
pub fn assistant_message(response_id: &str, text: &str) -> Reply {
    let deltas = split_text(text, 3);
    let refs: Vec<&str> = deltas.iter().map(String::as_str).collect();
    streamed_message(response_id, &refs)
}

/// The full event sequence of an assistant message made of exactly these deltas.
pub fn message_events(response_id: &str, deltas: &[&str]) -> Vec<SseEvent> {
    let item_id = format!("msg_{response_id}");
    let mut events = vec![
        ev_created(response_id),
        ev_message_item_added(&item_id),
        ev_content_part_added(&item_id),
    ];
    events.extend(deltas.iter().map(|d| ev_output_text_delta(&item_id, d)));
    events.push(ev_message_item_done(&item_id, &deltas.concat()));
    events.push(ev_completed(response_id, Usage::default()));
    events
}

/// An assistant message made of exactly these deltas.
pub fn streamed_message(response_id: &str, deltas: &[&str]) -> Reply {
    Reply::Sse(message_events(response_id, deltas))
}

/// A response whose only output is one function call.
pub fn function_call(response_id: &str, call_id: &str, name: &str, arguments: &Value) -> Reply {
    Reply::Sse(vec![
        ev_created(response_id),
        ev_function_call_item(call_id, name, arguments),
        ev_completed(response_id, Usage::default()),
    ])
}

/// A response whose only output is one freeform tool call.
pub fn custom_tool_call(response_id: &str, call_id: &str, name: &str, input: &str) -> Reply {
    Reply::Sse(vec![
        ev_created(response_id),
        ev_custom_tool_call_item(call_id, name, input),
        ev_completed(response_id, Usage::default()),
    ])
}

/// A response that fails with `response.failed` (`code` e.g. `server_error`, `context_length_exceeded`).
pub fn response_failed(response_id: &str, code: &str, message: &str) -> Reply {
    Reply::Sse(vec![
        ev_created(response_id),
        ev_failed(response_id, code, message),
    ])
}
