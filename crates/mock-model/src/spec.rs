//! The JSON form of a reply, for script files (`--script`) and `POST /_mock/enqueue`.
//!
//! ```json
//! [{"type":"message","text":"Hello"},
//!  {"type":"message","deltas":["Hel","lo"]},
//!  {"type":"function_call","call_id":"call_1","name":"shell","arguments":{"command":["ls"]}},
//!  {"type":"custom_tool_call","call_id":"call_2","name":"apply_patch","input":"*** Begin Patch\n..."},
//!  {"type":"failed","code":"server_error","message":"boom"},
//!  {"type":"status","status":500,"body":"oops","retry_after":"1"},
//!  {"type":"sse","events":[{"event":"response.created","data":{"type":"response.created"}}]},
//!  {"type":"drop_after","events":[]}, {"type":"idle","events":[]},
//!  {"type":"gated","before":[],"after":[]},
//!  {"type":"raw","content_type":"text/html","chunks":["<html>", "not SSE"]}]
//! ```
//! `response_id` is optional everywhere; without it the server numbers responses `resp_1`, `resp_2`, ...

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::reply::{self, Reply, SseEvent};

/// One scripted reply in JSON form.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplySpec {
    /// An assistant message: `deltas` verbatim, else `text` split into `chunks` deltas (default 3).
    Message {
        #[serde(default)]
        response_id: Option<String>,
        #[serde(default)]
        text: Option<String>,
        #[serde(default)]
        deltas: Option<Vec<String>>,
        #[serde(default)]
        chunks: Option<usize>,
    },
    FunctionCall {
        #[serde(default)]
        response_id: Option<String>,
        call_id: String,
        name: String,
        /// A JSON value (serialized for the wire) or an already-serialized string.
        arguments: Value,
    },
    CustomToolCall {
        #[serde(default)]
        response_id: Option<String>,
        call_id: String,
        name: String,
        input: String,
    },
    Failed {
        #[serde(default)]
        response_id: Option<String>,
        code: String,
        message: String,
    },
    Status {
        status: u16,
        #[serde(default)]
        body: String,
        #[serde(default)]
        retry_after: Option<String>,
    },
    Sse {
        events: Vec<SseEvent>,
    },
    DropAfter {
        events: Vec<SseEvent>,
    },
    Idle {
        events: Vec<SseEvent>,
    },
    /// Released by `POST /_mock/release` (or [`crate::MockServer::release`]).
    Gated {
        before: Vec<SseEvent>,
        after: Vec<SseEvent>,
    },
    /// `200` with these body chunks written verbatim (default content type
    /// `text/event-stream`): a non-SSE body, malformed events, events after garbage.
    Raw {
        #[serde(default)]
        content_type: Option<String>,
        chunks: Vec<String>,
    },
}

impl ReplySpec {
    /// Builds the reply. `next_id` supplies a response id when the spec has none;
    /// `gate` is the server-wide gate used by `gated` specs.
    pub fn into_reply(self, next_id: impl FnOnce() -> String, gate: &Arc<Notify>) -> Reply {
        match self {
            ReplySpec::Message {
                response_id,
                text,
                deltas,
                chunks,
            } => {
                let id = response_id.unwrap_or_else(next_id);
                let deltas = match deltas {
                    Some(d) => d,
                    None => reply::split_text(&text.unwrap_or_default(), chunks.unwrap_or(3)),
                };
                let refs: Vec<&str> = deltas.iter().map(String::as_str).collect();
                reply::streamed_message(&id, &refs)
            }
            ReplySpec::FunctionCall {
                response_id,
                call_id,
                name,
                arguments,
            } => reply::function_call(
                &response_id.unwrap_or_else(next_id),
                &call_id,
                &name,
                &arguments,
            ),
            ReplySpec::CustomToolCall {
                response_id,
                call_id,
                name,
                input,
            } => reply::custom_tool_call(
                &response_id.unwrap_or_else(next_id),
                &call_id,
                &name,
                &input,
            ),
            ReplySpec::Failed {
                response_id,
                code,
                message,
            } => reply::response_failed(&response_id.unwrap_or_else(next_id), &code, &message),
            ReplySpec::Status {
                status,
                body,
                retry_after,
            } => Reply::Status {
                status,
                body,
                retry_after,
            },
            ReplySpec::Sse { events } => Reply::Sse(events),
            ReplySpec::DropAfter { events } => Reply::DropAfter { events },
            ReplySpec::Idle { events } => Reply::Idle { events },
            ReplySpec::Gated { before, after } => Reply::Gated {
                before,
                gate: Arc::clone(gate),
                after,
            },
            ReplySpec::Raw {
                content_type,
                chunks,
            } => Reply::Raw {
                content_type: content_type.unwrap_or_else(|| "text/event-stream".to_string()),
                chunks,
            },
        }
    }
}
