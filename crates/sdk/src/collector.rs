//! [`TurnResult`] and how it is built from a turn's notifications, by the Python SDK's rules:
//!
//! - `items`: every `item/completed` of the turn that decoded, in arrival order;
//! - `usage`: the last `thread/tokenUsage/updated` of the turn (`None` if none came);
//! - `final_response`: the text of the last `agentMessage` whose phase is `final_answer`,
//!   else of the last one without a phase (commentary is never the answer);
//! - `id`, `status`, `error`, `started_at`, `completed_at`, `duration_ms`: from the turn in
//!   `turn/completed`.
//!
//! A `failed` turn is [`Error::TurnFailed`] with the server's message; a stream that ends
//! without `turn/completed` is [`Error::TurnIncomplete`].

use crate::error::Error;
use crate::notification::Notification;
use codex_protocol::methods::typed::ServerNotification;
use codex_protocol::methods::{Notification as _, TurnCompleted};
use codex_protocol::v2::{
    MessagePhase, ThreadItem, ThreadTokenUsage, TurnCompletedNotification, TurnError, TurnStatus,
};

/// Everything a completed turn produced.
#[derive(Clone, Debug, PartialEq)]
pub struct TurnResult {
    /// The turn's id.
    pub id: String,
    /// `completed` or `interrupted` (a failed turn is [`Error::TurnFailed`]).
    pub status: TurnStatus,
    /// The turn's error, if the server reported one.
    pub error: Option<TurnError>,
    /// Unix seconds.
    pub started_at: Option<i64>,
    /// Unix seconds.
    pub completed_at: Option<i64>,
    /// The turn's duration as the server measured it.
    pub duration_ms: Option<i64>,
    /// The agent's final answer (see the module docs for which message that is).
    pub final_response: Option<String>,
    /// Every item the turn completed, in order.
    pub items: Vec<ThreadItem>,
    /// The turn's token usage (the last `thread/tokenUsage/updated`).
    pub usage: Option<ThreadTokenUsage>,
}

/// The text of the final answer among `items`.
pub fn final_response(items: &[ThreadItem]) -> Option<String> {
    let mut fallback = None;
    for item in items.iter().rev() {
        let ThreadItem::AgentMessage { text, phase, .. } = item else {
            continue;
        };
        match phase {
            Some(MessagePhase::FinalAnswer) => return Some(text.clone()),
            None if fallback.is_none() => fallback = Some(text.clone()),
            _ => {}
        }
    }
    fallback
}

/// Builds a [`TurnResult`] from a turn's notifications, for code that streams a turn itself
/// and still wants its result ([`crate::TurnHandle::run`] uses it): feed every notification
/// in order, then take [`TurnCollector::result`].
///
/// ```no_run
/// # async fn demo(turn: codex_sdk::TurnHandle) -> codex_sdk::Result<()> {
/// use codex_sdk::TurnCollector;
///
/// let mut collector = TurnCollector::new(turn.id());
/// let mut stream = turn.stream();
/// while let Some(notification) = stream.next().await {
///     let notification = notification?;
///     println!("{}", notification.method());
///     collector.feed(notification);
/// }
/// let result = collector.result()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct TurnCollector {
    turn_id: String,
    items: Vec<ThreadItem>,
    usage: Option<ThreadTokenUsage>,
    completed: Option<TurnCompletedNotification>,
    /// Set when `turn/completed` arrived but did not decode.
    undecodable_end: Option<String>,
}

impl TurnCollector {
    /// A collector for turn `turn_id`.
    pub fn new(turn_id: &str) -> TurnCollector {
        TurnCollector {
            turn_id: turn_id.to_string(),
            items: Vec::new(),
            usage: None,
            completed: None,
            undecodable_end: None,
        }
    }

    /// Records one notification; true once it completed the turn.
    pub fn feed(&mut self, notification: Notification) -> bool {
        match notification {
            Notification::Known(ServerNotification::ItemCompleted(n))
                if n.turn_id == self.turn_id =>
            {
                self.items.push(n.item);
            }
            Notification::Known(ServerNotification::ThreadTokenUsageUpdated(n))
                if n.turn_id == self.turn_id =>
            {
                self.usage = Some(n.token_usage);
            }
            Notification::Known(ServerNotification::TurnCompleted(n))
                if n.turn.id == self.turn_id =>
            {
                self.completed = Some(n);
                return true;
            }
            Notification::Unknown(n) if n.method == TurnCompleted::NAME => {
                self.undecodable_end = Some(n.decode_error.unwrap_or_default());
                return true;
            }
            _ => {}
        }
        false
    }

    /// The result.
    ///
    /// # Errors
    /// [`Error::TurnFailed`], [`Error::TurnIncomplete`], or [`Error::Protocol`] for a
    /// `turn/completed` that did not decode.
    pub fn result(self) -> Result<TurnResult, Error> {
        let Some(completed) = self.completed else {
            return Err(match self.undecodable_end {
                Some(reason) => Error::Protocol(format!(
                    "turn/completed of turn {} did not decode: {reason}",
                    self.turn_id
                )),
                None => Error::TurnIncomplete {
                    turn_id: self.turn_id,
                },
            });
        };
        let turn = completed.turn;
        if turn.status == TurnStatus::Failed {
            let message = turn
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "turn failed with status failed".to_string());
            return Err(Error::TurnFailed {
                turn_id: turn.id,
                message,
                error: turn.error.map(Box::new),
            });
        }
        Ok(TurnResult {
            final_response: final_response(&self.items),
            id: turn.id,
            status: turn.status,
            error: turn.error,
            started_at: turn.started_at,
            completed_at: turn.completed_at,
            duration_ms: turn.duration_ms,
            items: self.items,
            usage: self.usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn note(method: &str, params: Value) -> Notification {
        Notification::decode(method.into(), Some(params))
    }

    fn message(turn: &str, id: &str, text: &str, phase: Value) -> Notification {
        note(
            "item/completed",
            json!({"threadId": "t", "turnId": turn, "completedAtMs": 1,
                   "item": {"type": "agentMessage", "id": id, "text": text, "phase": phase, "memoryCitation": null}}),
        )
    }

    fn usage(turn: &str, total: i64) -> Notification {
        let b = json!({"totalTokens": total, "inputTokens": total, "cachedInputTokens": 0,
                       "outputTokens": 0, "reasoningOutputTokens": 0});
        note(
            "thread/tokenUsage/updated",
            json!({"threadId": "t", "turnId": turn,
                   "tokenUsage": {"total": b, "last": b, "modelContextWindow": null}}),
        )
    }

    fn completed(turn: &str, status: &str, error: Value) -> Notification {
        note(
            "turn/completed",
            json!({"threadId": "t", "turn": {"id": turn, "items": [], "status": status,
                   "error": error, "startedAt": 10, "completedAt": 12, "durationMs": 2000}}),
        )
    }

    #[test]
    fn final_answer_beats_a_later_unphased_message_and_commentary_never_counts() {
        let mut c = TurnCollector::new("u");
        assert!(!c.feed(message("u", "1", "answer", json!("final_answer"))));
        c.feed(message("u", "2", "unphased", Value::Null));
        c.feed(message("u", "3", "thinking aloud", json!("commentary")));
        c.feed(message("other", "4", "not ours", json!("final_answer")));
        c.feed(usage("u", 5));
        c.feed(usage("other", 99));
        c.feed(usage("u", 7));
        assert!(c.feed(completed("u", "completed", Value::Null)));
        let r = c.result().unwrap();
        assert_eq!(r.final_response.as_deref(), Some("answer"));
        assert_eq!(r.items.len(), 3);
        assert_eq!(r.usage.unwrap().total.total_tokens, 7);
        assert_eq!(
            (
                r.id.as_str(),
                r.status,
                r.started_at,
                r.completed_at,
                r.duration_ms
            ),
            ("u", TurnStatus::Completed, Some(10), Some(12), Some(2000))
        );
    }

    #[test]
    fn without_final_answer_the_last_unphased_message_is_the_response() {
        let mut c = TurnCollector::new("u");
        c.feed(message("u", "1", "first", Value::Null));
        c.feed(message("u", "2", "second", Value::Null));
        c.feed(message("u", "3", "c", json!("commentary")));
        c.feed(completed("u", "interrupted", Value::Null));
        let r = c.result().unwrap();
        assert_eq!(r.final_response.as_deref(), Some("second"));
        assert_eq!(r.status, TurnStatus::Interrupted);
        assert_eq!(r.usage, None);
    }

    #[test]
    fn failed_turns_and_missing_ends_are_errors() {
        let mut c = TurnCollector::new("u");
        c.feed(completed(
            "u",
            "failed",
            json!({"message": "model exploded", "codexErrorInfo": null, "additionalDetails": null}),
        ));
        let err = c.result().unwrap_err();
        assert!(
            matches!(&err, Error::TurnFailed { message, error: Some(_), .. } if message == "model exploded"),
            "{err:?}"
        );
        let mut c = TurnCollector::new("u");
        c.feed(completed("u", "failed", Value::Null));
        assert!(
            matches!(c.result(), Err(Error::TurnFailed { message, .. }) if message == "turn failed with status failed")
        );
        assert!(matches!(
            TurnCollector::new("u").result(),
            Err(Error::TurnIncomplete { .. })
        ));
        let mut c = TurnCollector::new("u");
        assert!(c.feed(note("turn/completed", json!({"turn": {"id": "u"}}))));
        assert!(matches!(c.result(), Err(Error::Protocol(_))));
    }
}
