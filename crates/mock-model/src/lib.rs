//! Scripted mock of the OpenAI Responses API, used by tests, the demo and benchmarks.
//!
//! # Layout
//! - [`reply`] — what the server answers ([`Reply`], [`SseEvent`]) and builders for common replies.
//! - [`spec`] — the JSON shape of replies used by script files and `POST /_mock/enqueue`.
//! - [`http`] — a small HTTP/1.1 request reader and response writer (keep-alive, chunked SSE).
//! - [`server`] — [`MockServer`], the listener, the reply queue and captured requests.

pub mod http;
pub mod reply;
pub mod server;
pub mod spec;

pub use reply::{
    assistant_message, custom_tool_call, ev_completed, ev_content_part_added, ev_created,
    ev_custom_tool_call_item, ev_failed, ev_function_call_item, ev_message_item_added,
    ev_message_item_done, ev_output_text_delta, ev_reasoning_item, ev_reasoning_summary_delta,
    function_call, message_events, response_failed, split_text, streamed_message, Reply, SseEvent,
    Usage,
};
pub use server::{CapturedRequest, MockServer, WaitError};
pub use spec::ReplySpec;
