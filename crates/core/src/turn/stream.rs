//! One model exchange: send a request, stream the response, announce message and reasoning
//! items as they complete (deltas included), and return the response's output items.
//! Retried attempts are announced as `error` notifications with `willRetry`; a retried
//! attempt's partial items are not recorded.

use super::outcome::Stop;
use super::recorder::Recorder;
use crate::clock::now_ms;
use crate::identity::ClientIdentity;
use crate::rollout;
use codex_model::{ModelClient, ModelError, ResponseEvent, ResponsesRequest};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// A model request of one turn.
pub struct Exchange<'a> {
    pub model: &'a ModelClient,
    pub client: &'a ClientIdentity,
    pub cancel: &'a CancellationToken,
    /// Announce message and reasoning items (a compaction's summary is not announced).
    pub emit_items: bool,
    /// `x-openai-subagent` of requests made for a sub-agent (`review`), none for the turn's own.
    pub subagent: Option<&'static str>,
}

impl Exchange<'_> {
    /// Streams one response for `body`; returns its output items (authoritative, from
    /// `.done`). Only a completed response's items are recorded.
    pub async fn run(&self, rec: &mut Recorder, body: Value) -> Result<Vec<Value>, Stop> {
        rec.begin_attempt();
        let result = self.stream(rec, body).await;
        rec.end_attempt(result.is_ok());
        result
    }

    async fn stream(&self, rec: &mut Recorder, body: Value) -> Result<Vec<Value>, Stop> {
        let emit_items = self.emit_items;
        let mut headers = vec![
            ("originator".to_string(), self.client.name.clone()),
            ("user-agent".to_string(), self.client.user_agent.clone()),
            ("session-id".to_string(), rec.thread_id.clone()),
            ("thread-id".to_string(), rec.thread_id.clone()),
            ("x-client-request-id".to_string(), rec.turn_id.clone()),
        ];
        if let Some(subagent) = self.subagent {
            headers.push(("x-openai-subagent".to_string(), subagent.to_string()));
        }
        let mut rx = self.model.stream(ResponsesRequest { body, headers });
        let mut outputs: Vec<Value> = Vec::new();
        let mut open = OpenItems::default();
        loop {
            let event = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return Err(Stop::Interrupted),
                ev = rx.recv() => ev,
            };
            let event = match event {
                None => {
                    return Err(Stop::Failed(TurnError::new(
                        "model stream ended without a completed response",
                        CodexErrorInfo::Kind(CodexErrorKind::Other),
                    )))
                }
                Some(Err(e)) => return Err(Stop::Failed(model_error(&e))),
                Some(Ok(ev)) => ev,
            };
            match event {
                ResponseEvent::Created { .. } => {}
                ResponseEvent::OutputItemAdded(item) if emit_items => {
                    open.started(rec, &item).await;
                }
                ResponseEvent::OutputItemAdded(_) => {}
                ResponseEvent::OutputTextDelta { item_id, delta } if emit_items => {
                    let id = open.ensure_message(rec, item_id).await;
                    open.message_text.push_str(&delta);
                    rec.sink
                        .notify::<m::AgentMessageDelta>(&AgentMessageDeltaNotification {
                            thread_id: rec.thread_id.clone(),
                            turn_id: rec.turn_id.clone(),
                            item_id: id,
                            delta,
                        })
                        .await;
                }
                ResponseEvent::ReasoningSummaryDelta {
                    delta,
                    summary_index,
                    ..
                } if emit_items => {
                    if let Some((id, _)) = &open.reasoning {
                        rec.sink
                            .notify::<m::ReasoningSummaryTextDelta>(
                                &ReasoningSummaryTextDeltaNotification {
                                    thread_id: rec.thread_id.clone(),
                                    turn_id: rec.turn_id.clone(),
                                    item_id: id.clone(),
                                    delta,
                                    summary_index,
                                },
                            )
                            .await;
                    }
                }
                ResponseEvent::ReasoningSummaryPartAdded { summary_index, .. } if emit_items => {
                    if let Some((id, _)) = &open.reasoning {
                        rec.sink
                            .notify::<m::ReasoningSummaryPartAdded>(
                                &ReasoningSummaryPartAddedNotification {
                                    thread_id: rec.thread_id.clone(),
                                    turn_id: rec.turn_id.clone(),
                                    item_id: id.clone(),
                                    summary_index,
                                },
                            )
                            .await;
                    }
                }
                ResponseEvent::ReasoningContentDelta {
                    delta,
                    content_index,
                    ..
                } if emit_items => {
                    if let Some((id, _)) = &open.reasoning {
                        rec.sink
                            .notify::<m::ReasoningTextDelta>(&ReasoningTextDeltaNotification {
                                thread_id: rec.thread_id.clone(),
                                turn_id: rec.turn_id.clone(),
                                item_id: id.clone(),
                                delta,
                                content_index,
                            })
                            .await;
                    }
                }
                ResponseEvent::OutputItemDone(item) => {
                    if emit_items {
                        open.done(rec, &item).await;
                    }
                    outputs.push(item);
                }
                ResponseEvent::Completed { usage, .. } => {
                    if let Some(u) = usage {
                        rec.add_usage(u).await;
                    }
                    return Ok(outputs);
                }
                ResponseEvent::Retrying {
                    attempt,
                    max,
                    message,
                    http_status,
                } => {
                    // The failed attempt's partial output is discarded; the request is re-sent.
                    outputs.clear();
                    rec.begin_attempt();
                    open = OpenItems::default();
                    let mut info = serde_json::Map::new();
                    info.insert(
                        "responseStreamDisconnected".into(),
                        json!({"httpStatusCode": http_status}),
                    );
                    rec.sink
                        .notify::<m::Error>(&ErrorNotification {
                            thread_id: rec.thread_id.clone(),
                            turn_id: rec.turn_id.clone(),
                            will_retry: true,
                            error: TurnError {
                                message: format!("Reconnecting... {attempt}/{max}"),
                                codex_error_info: Some(CodexErrorInfo::Detailed(info)),
                                additional_details: Some(message),
                            },
                        })
                        .await;
                }
                _ => {}
            }
        }
    }
}

/// The message and reasoning items of the response being streamed.
#[derive(Default)]
struct OpenItems {
    message: Option<(String, i64)>,
    message_text: String,
    reasoning: Option<(String, i64)>,
}

impl OpenItems {
    async fn started(&mut self, rec: &Recorder, item: &Value) {
        match item["type"].as_str() {
            Some("message") => {
                let id = item_id(item);
                let started = now_ms();
                rec.emit_item_started(&agent_message(&id, "", None), started)
                    .await;
                self.message = Some((id, started));
                self.message_text.clear();
            }
            Some("reasoning") => {
                let id = item_id(item);
                let started = now_ms();
                rec.emit_item_started(
                    &ThreadItem::Reasoning {
                        id: id.clone(),
                        summary: vec![],
                        content: vec![],
                    },
                    started,
                )
                .await;
                self.reasoning = Some((id, started));
            }
            _ => {}
        }
    }

    async fn ensure_message(&mut self, rec: &Recorder, item_id: Option<String>) -> String {
        if let Some((id, _)) = &self.message {
            return id.clone();
        }
        let id = item_id.unwrap_or_else(|| format!("msg_{}", uuid::Uuid::now_v7()));
        let started = now_ms();
        rec.emit_item_started(&agent_message(&id, "", None), started)
            .await;
        self.message = Some((id.clone(), started));
        id
    }

    async fn done(&mut self, rec: &mut Recorder, item: &Value) {
        match item["type"].as_str() {
            Some("message") if item["role"] == "assistant" || item["role"].is_null() => {
                let text = rollout::content_text(item);
                let (id, started) = match self.message.take() {
                    Some(open) => open,
                    None => {
                        let id = item_id(item);
                        let started = now_ms();
                        rec.emit_item_started(&agent_message(&id, "", None), started)
                            .await;
                        (id, started)
                    }
                };
                let phase = serde_json::from_value(item["phase"].clone()).ok();
                rec.set_last_agent_message(&text);
                rec.complete_item(agent_message(&id, &text, phase), started)
                    .await;
            }
            Some("reasoning") => {
                let (id, started) = match self.reasoning.take() {
                    Some(open) => open,
                    None => {
                        let id = item_id(item);
                        let started = now_ms();
                        let empty = ThreadItem::Reasoning {
                            id: id.clone(),
                            summary: vec![],
                            content: vec![],
                        };
                        rec.emit_item_started(&empty, started).await;
                        (id, started)
                    }
                };
                let texts = |key: &str| -> Vec<String> {
                    item[key]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|p| p["text"].as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                let reasoning = ThreadItem::Reasoning {
                    id,
                    summary: texts("summary"),
                    content: texts("content"),
                };
                rec.complete_item(reasoning, started).await;
            }
            _ => {}
        }
    }
}

fn item_id(item: &Value) -> String {
    item["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("item_{}", uuid::Uuid::now_v7()))
}

fn agent_message(id: &str, text: &str, phase: Option<MessagePhase>) -> ThreadItem {
    ThreadItem::AgentMessage {
        id: id.to_string(),
        text: text.to_string(),
        phase,
        memory_citation: None,
    }
}

/// Maps a model failure to the turn error clients see.
pub fn model_error(e: &ModelError) -> TurnError {
    let kind = match e {
        ModelError::ContextWindowExceeded(_) => {
            CodexErrorInfo::Kind(CodexErrorKind::ContextWindowExceeded)
        }
        ModelError::QuotaExceeded(_) => CodexErrorInfo::Kind(CodexErrorKind::UsageLimitExceeded),
        ModelError::Http { status: 401, .. } => CodexErrorInfo::Kind(CodexErrorKind::Unauthorized),
        ModelError::Http { status: 400, .. } => CodexErrorInfo::Kind(CodexErrorKind::BadRequest),
        ModelError::Http { status, .. } if *status >= 500 => {
            CodexErrorInfo::Kind(CodexErrorKind::InternalServerError)
        }
        ModelError::RetryLimit { http_status, .. } => {
            let mut m = serde_json::Map::new();
            m.insert(
                "responseTooManyFailedAttempts".into(),
                json!({"httpStatusCode": http_status}),
            );
            CodexErrorInfo::Detailed(m)
        }
        _ => CodexErrorInfo::Kind(CodexErrorKind::Other),
    };
    TurnError {
        message: e.to_string(),
        codex_error_info: Some(kind),
        additional_details: None,
    }
}
