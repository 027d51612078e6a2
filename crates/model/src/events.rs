//! Events the client yields ([`ResponseEvent`], [`TokenUsage`]) and the mapping of one
//! Responses API SSE frame to an event, the end of the response, or a failure.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ModelError;
use crate::retry::parse_rate_limit_delay;
use crate::sse::SseFrame;

/// Token counts reported with `response.completed`.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
    pub total_tokens: i64,
}

impl TokenUsage {
    /// Reads a Responses API `usage` object.
    pub fn from_responses_usage(usage: &Value) -> Self {
        let int = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
        TokenUsage {
            input_tokens: int(usage.get("input_tokens")),
            cached_input_tokens: int(usage.pointer("/input_tokens_details/cached_tokens")),
            output_tokens: int(usage.get("output_tokens")),
            reasoning_output_tokens: int(usage.pointer("/output_tokens_details/reasoning_tokens")),
            total_tokens: int(usage.get("total_tokens")),
        }
    }
}

/// What a model stream yields. After [`ResponseEvent::Retrying`] the request is re-sent:
/// consumers must discard partial output of the failed attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum ResponseEvent {
    Created {
        response_id: Option<String>,
    },
    OutputItemAdded(Value),
    OutputTextDelta {
        item_id: Option<String>,
        delta: String,
    },
    ReasoningSummaryDelta {
        item_id: Option<String>,
        delta: String,
        summary_index: i64,
    },
    ReasoningSummaryPartAdded {
        item_id: Option<String>,
        summary_index: i64,
    },
    ReasoningContentDelta {
        item_id: Option<String>,
        delta: String,
        content_index: i64,
    },
    /// The authoritative finished item (message, reasoning, function_call, ...).
    OutputItemDone(Value),
    /// The response finished; always the last event of a successful stream.
    Completed {
        response_id: Option<String>,
        usage: Option<TokenUsage>,
    },
    /// The previous attempt failed and the request is about to be re-sent.
    Retrying {
        attempt: u32,
        max: u32,
        message: String,
        http_status: Option<u16>,
    },
}

/// The meaning of one SSE frame.
#[derive(Debug)]
pub(crate) enum Decoded {
    Event(ResponseEvent),
    /// Terminal success (`Completed`).
    Done(ResponseEvent),
    /// Terminal failure, with a server-requested retry delay if any.
    Failed(ModelError, Option<Duration>),
}

fn str_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

fn int_field(value: &Value, key: &str) -> i64 {
    value.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// Maps one Responses API frame; `None` for unknown types and unparsable data.
pub(crate) fn decode_responses_frame(frame: &SseFrame) -> Option<Decoded> {
    let value: Value = match serde_json::from_str(&frame.data) {
        Ok(v) => v,
        Err(err) => {
            tracing::debug!(%err, data = %frame.data, "skipping unparsable SSE data");
            return None;
        }
    };
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .or(frame.event.as_deref())?;
    let item_id = str_field(&value, "item_id");
    let decoded = match kind {
        "response.created" => Decoded::Event(ResponseEvent::Created {
            response_id: value
                .pointer("/response/id")
                .and_then(Value::as_str)
                .map(str::to_string),
        }),
        "response.output_item.added" => {
            Decoded::Event(ResponseEvent::OutputItemAdded(value.get("item")?.clone()))
        }
        "response.output_item.done" => {
            Decoded::Event(ResponseEvent::OutputItemDone(value.get("item")?.clone()))
        }
        "response.output_text.delta" => Decoded::Event(ResponseEvent::OutputTextDelta {
            item_id,
            delta: str_field(&value, "delta")?,
        }),
        "response.reasoning_summary_text.delta" => {
            Decoded::Event(ResponseEvent::ReasoningSummaryDelta {
                item_id,
                delta: str_field(&value, "delta")?,
                summary_index: int_field(&value, "summary_index"),
            })
        }
        "response.reasoning_summary_part.added" => {
            Decoded::Event(ResponseEvent::ReasoningSummaryPartAdded {
                item_id,
                summary_index: int_field(&value, "summary_index"),
            })
        }
        "response.reasoning_text.delta" => Decoded::Event(ResponseEvent::ReasoningContentDelta {
            item_id,
            delta: str_field(&value, "delta")?,
            content_index: int_field(&value, "content_index"),
        }),
        "response.completed" => {
            let response = value.get("response");
            Decoded::Done(ResponseEvent::Completed {
                response_id: response.and_then(|r| str_field(r, "id")),
                usage: response
                    .and_then(|r| r.get("usage"))
                    .filter(|u| u.is_object())
                    .map(TokenUsage::from_responses_usage),
            })
        }
        "response.failed" => {
            let error = value
                .pointer("/response/error")
                .cloned()
                .unwrap_or(Value::Null);
            let code = str_field(&error, "code");
            let message = str_field(&error, "message")
                .unwrap_or_else(|| "response.failed without an error message".to_string());
            failure(code, message)
        }
        "response.incomplete" => {
            let reason = value
                .pointer("/response/incomplete_details/reason")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string();
            Decoded::Failed(ModelError::Incomplete(reason), None)
        }
        _ => return None,
    };
    Some(decoded)
}

/// Classifies a `response.failed` error code.
pub(crate) fn failure(code: Option<String>, message: String) -> Decoded {
    match code.as_deref() {
        Some("context_length_exceeded") => {
            Decoded::Failed(ModelError::ContextWindowExceeded(message), None)
        }
        Some("insufficient_quota") => Decoded::Failed(ModelError::QuotaExceeded(message), None),
        Some("usage_not_included") => Decoded::Failed(ModelError::UsageNotIncluded, None),
        Some("rate_limit_exceeded") => {
            let delay = parse_rate_limit_delay(&message);
            Decoded::Failed(ModelError::ResponseFailed { code, message }, delay)
        }
        _ => Decoded::Failed(ModelError::ResponseFailed { code, message }, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(value: Value) -> Option<Decoded> {
        decode_responses_frame(&SseFrame {
            event: None,
            data: value.to_string(),
        })
    }

    #[test]
    fn usage_is_mapped() {
        let Some(Decoded::Done(ResponseEvent::Completed { response_id, usage })) = decode(json!({
            "type": "response.completed",
            "response": {"id": "resp_9", "usage": {
                "input_tokens": 120, "input_tokens_details": {"cached_tokens": 20},
                "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3},
                "total_tokens": 127}}
        })) else {
            panic!("expected completion");
        };
        assert_eq!(response_id.as_deref(), Some("resp_9"));
        assert_eq!(
            usage,
            Some(TokenUsage {
                input_tokens: 120,
                cached_input_tokens: 20,
                output_tokens: 7,
                reasoning_output_tokens: 3,
                total_tokens: 127
            })
        );
    }

    #[test]
    fn failures_are_classified() {
        let failed = |code: &str, message: &str| {
            decode(
                json!({"type": "response.failed", "response": {"error": {"code": code, "message": message}}}),
            )
        };
        assert!(matches!(
            failed("context_length_exceeded", "too long"),
            Some(Decoded::Failed(ModelError::ContextWindowExceeded(_), None))
        ));
        assert!(matches!(
            failed("insufficient_quota", "pay"),
            Some(Decoded::Failed(ModelError::QuotaExceeded(_), None))
        ));
        assert!(matches!(
            failed("usage_not_included", "x"),
            Some(Decoded::Failed(ModelError::UsageNotIncluded, None))
        ));
        match failed("rate_limit_exceeded", "Please try again in 250ms.") {
            Some(Decoded::Failed(err, Some(delay))) => {
                assert!(err.is_retryable());
                assert_eq!(delay, Duration::from_millis(250));
            }
            other => panic!("unexpected {other:?}"),
        }
        match failed("server_error", "boom") {
            Some(Decoded::Failed(err, None)) => {
                assert!(err.is_retryable());
                assert_eq!(err.to_string(), "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_and_garbage_are_skipped() {
        assert!(decode(json!({"type": "response.in_progress"})).is_none());
        assert!(decode_responses_frame(&SseFrame {
            event: None,
            data: "{not json".into()
        })
        .is_none());
    }

    #[test]
    fn deltas_carry_indices() {
        match decode(
            json!({"type": "response.reasoning_summary_text.delta", "item_id": "rs_1", "delta": "hm", "summary_index": 2}),
        ) {
            Some(Decoded::Event(ResponseEvent::ReasoningSummaryDelta {
                item_id,
                delta,
                summary_index,
            })) => {
                assert_eq!(
                    (item_id.as_deref(), delta.as_str(), summary_index),
                    (Some("rs_1"), "hm", 2)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
