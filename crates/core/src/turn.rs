//! The turn loop: one task per turn that streams model responses, runs the tools the model
//! calls, feeds their outputs back, and ends with exactly one `turn/completed`, whatever fails.

use crate::rollout::{self, TurnEnd};
use crate::runtime::Runtime;
use crate::thread::{LoadedThread, TurnKind};
use crate::tools::{self, ToolCall};
use codex_model::{ModelClient, ModelError, ResponseEvent, ResponsesRequest};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use codex_store::RolloutEntry;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub enum TurnRequest {
    User {
        input: Vec<UserInput>,
        output_schema: Option<Value>,
    },
    Compact,
}

/// Everything needed to run a prepared turn; launched after the response is sent so the
/// client sees the `turn/start` answer before the turn's notifications.
pub struct TurnLaunch {
    pub(crate) runtime: Runtime,
    pub(crate) thread: Arc<LoadedThread>,
    pub turn_id: String,
    pub(crate) kind: TurnKind,
    pub(crate) request: TurnRequest,
    pub(crate) cancel: CancellationToken,
    pub(crate) pending_input: Arc<Mutex<Vec<Vec<UserInput>>>>,
    pub(crate) finished: Arc<tokio::sync::watch::Sender<bool>>,
    pub(crate) started_at: i64,
}

/// How a turn ended.
pub(crate) enum Outcome {
    Completed,
    Interrupted,
    Failed(TurnError),
}

/// Why a model exchange stopped early.
pub(crate) enum Stop {
    Interrupted,
    Failed(TurnError),
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Interrupted => Outcome::Interrupted,
            Stop::Failed(e) => Outcome::Failed(e),
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl TurnLaunch {
    pub fn launch(self) {
        let tracker = self.runtime.inner.tasks.clone();
        tracker.spawn(self.run());
    }

    async fn run(self) {
        let TurnLaunch {
            runtime,
            thread,
            turn_id,
            kind,
            request,
            cancel,
            pending_input,
            finished,
            started_at,
        } = self;
        let settings = thread.state.lock().await.settings.clone();
        let mut turn = TurnRun {
            thread_id: thread.id.clone(),
            runtime,
            thread,
            turn_id,
            cancel,
            pending_input,
            settings,
            items: Vec::new(),
            turn_usage: ThreadTokenUsage::default(),
            last_agent_message: None,
            attempt: None,
            persist_error: None,
            model: None,
            started: Instant::now(),
            started_at,
        };
        turn.announce_start().await;
        let outcome = match turn.model_client() {
            Err(e) => Outcome::Failed(e),
            Ok(model) => {
                turn.model = Some(model);
                match request {
                    TurnRequest::User {
                        input,
                        output_schema,
                    } => turn.run_user(input, output_schema).await,
                    TurnRequest::Compact => match turn.compact().await {
                        Ok(()) => Outcome::Completed,
                        Err(stop) => stop.into(),
                    },
                }
            }
        };
        turn.finish(outcome, kind).await;
        finished.send_replace(true);
    }
}

pub(crate) struct TurnRun {
    pub runtime: Runtime,
    pub thread: Arc<LoadedThread>,
    pub thread_id: String,
    pub turn_id: String,
    pub cancel: CancellationToken,
    pending_input: Arc<Mutex<Vec<Vec<UserInput>>>>,
    pub settings: crate::settings::ThreadSettings,
    /// Items completed in this turn, in order (sent back in `turn/completed`).
    pub items: Vec<ThreadItem>,
    turn_usage: ThreadTokenUsage,
    last_agent_message: Option<String>,
    /// What the model response being streamed has completed so far. Clients see each item as
    /// it completes, but it is recorded (rollout, turn items) only when the response completes,
    /// so a retried stream does not record the failed attempt's items twice.
    attempt: Option<AttemptItems>,
    persist_error: Option<String>,
    model: Option<ModelClient>,
    started: Instant,
    started_at: i64,
}

impl TurnRun {
    pub fn client(&self) -> &crate::client::ClientHandle {
        &self.runtime.inner.client
    }

    fn model_client(&self) -> Result<ModelClient, TurnError> {
        self.runtime
            .model_client(&self.settings.provider_id)
            .map_err(|e| {
                TurnError::new(
                    e.to_string(),
                    CodexErrorInfo::Kind(CodexErrorKind::BadRequest),
                )
            })
    }

    /// Appends to the rollout. A failed write is remembered and fails the turn at its end, so a
    /// full disk is reported instead of silently losing history.
    pub fn persist(&mut self, entries: Vec<RolloutEntry>) {
        if self.thread.ephemeral || entries.is_empty() {
            return;
        }
        let appended = self
            .runtime
            .store_now()
            .map_err(|e| e.to_string())
            .and_then(|store| {
                store
                    .append(&self.thread_id, &entries)
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = appended {
            tracing::error!(thread = %self.thread_id, "rollout append failed: {e}");
            self.persist_error.get_or_insert_with(|| e.to_string());
        }
    }

    async fn announce_start(&mut self) {
        let client = self.client().clone();
        client
            .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: self.thread_id.clone(),
                status: ThreadStatus::Active {
                    active_flags: Vec::new(),
                },
            })
            .await;
        client
            .notify::<m::TurnStarted>(&TurnStartedNotification {
                thread_id: self.thread_id.clone(),
                turn: self.wire_turn(
                    TurnStatus::InProgress,
                    None,
                    Vec::new(),
                    TurnItemsView::NotLoaded,
                ),
            })
            .await;
        let window = self.context_window();
        let entries = vec![
            rollout::task_started(&self.turn_id, self.started_at, window),
            rollout::turn_context(&self.turn_id, &self.settings),
        ];
        self.persist(entries);
    }

    fn wire_turn(
        &self,
        status: TurnStatus,
        error: Option<TurnError>,
        items: Vec<ThreadItem>,
        view: TurnItemsView,
    ) -> Turn {
        let done = status != TurnStatus::InProgress;
        Turn {
            id: self.turn_id.clone(),
            items,
            items_view: view,
            status,
            error,
            started_at: Some(self.started_at),
            completed_at: done.then(|| chrono::Utc::now().timestamp()),
            duration_ms: done.then(|| self.started.elapsed().as_millis() as i64),
            usage: done.then(|| self.turn_usage.clone()),
        }
    }

    pub fn context_window(&self) -> i64 {
        self.runtime
            .base_settings()
            .model_context_window
            .unwrap_or(crate::compact::FALLBACK_CONTEXT_WINDOW)
    }

    pub async fn emit_item_started(&self, item: &ThreadItem, started_ms: i64) {
        self.client()
            .notify::<m::ItemStarted>(&ItemStartedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                started_at_ms: started_ms,
                item: item.clone(),
            })
            .await;
    }

    /// Sends `item/completed`, records the item for the turn and persists it.
    pub async fn complete_item(&mut self, item: ThreadItem, started_ms: i64) {
        let completed_ms = now_ms();
        self.client()
            .notify::<m::ItemCompleted>(&ItemCompletedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                completed_at_ms: completed_ms,
                item: item.clone(),
            })
            .await;
        let mut entries = vec![rollout::item_completed(
            &self.thread_id,
            &self.turn_id,
            &item,
            started_ms,
            completed_ms,
        )];
        entries.extend(rollout::legacy_message_event(&item));
        match &mut self.attempt {
            Some(attempt) => {
                attempt.entries.extend(entries);
                attempt.items.push(item);
            }
            None => {
                self.persist(entries);
                self.items.push(item);
            }
        }
    }

    /// Appends items to the model-facing history and the rollout.
    pub async fn record_history(&mut self, items: Vec<Value>) {
        if items.is_empty() {
            return;
        }
        let entries = items.iter().map(rollout::response_item).collect();
        self.persist(entries);
        self.thread.state.lock().await.history.extend(items);
    }

    async fn record_user_input(&mut self, input: &[UserInput]) -> Result<(), Stop> {
        let content = crate::input::to_content(input).map_err(|e| {
            Stop::Failed(TurnError::new(
                e.to_string(),
                CodexErrorInfo::Kind(CodexErrorKind::BadRequest),
            ))
        })?;
        let started = now_ms();
        let content_wire: Vec<UserInput> = input.to_vec();
        let item = ThreadItem::UserMessage {
            id: uuid::Uuid::now_v7().to_string(),
            content: content_wire,
            client_id: None,
        };
        self.emit_item_started(&item, started).await;
        self.record_history(vec![rollout::user_message_item(content)])
            .await;
        self.complete_item(item, started).await;
        Ok(())
    }

    fn take_pending_input(&self) -> Vec<Vec<UserInput>> {
        self.pending_input
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    async fn run_user(&mut self, input: Vec<UserInput>, output_schema: Option<Value>) -> Outcome {
        if let Err(stop) = self.record_user_input(&input).await {
            return stop.into();
        }
        loop {
            if self.cancel.is_cancelled() {
                return Outcome::Interrupted;
            }
            for steered in self.take_pending_input() {
                if let Err(stop) = self.record_user_input(&steered).await {
                    return stop.into();
                }
            }
            if crate::compact::needs_auto_compaction(self).await {
                if let Err(stop) = self.compact().await {
                    return stop.into();
                }
            }
            let body = {
                let st = self.thread.state.lock().await;
                crate::prompt::request_body(&crate::prompt::PromptParts {
                    settings: &self.settings,
                    thread_id: &self.thread_id,
                    history: &st.history,
                    tools: tools::specs(&self.settings),
                    output_schema: output_schema.as_ref(),
                    project_docs: st.project_docs.as_deref(),
                })
            };
            let outputs = match self.exchange(body, true).await {
                Ok(o) => o,
                Err(stop) => return stop.into(),
            };
            let calls: Vec<ToolCall> = outputs.iter().filter_map(ToolCall::from_item).collect();
            self.record_history(outputs).await;
            if calls.is_empty() {
                // Decide under the thread-state lock, where input joins a turn: either the
                // pending input runs now, or the turn closes to new input.
                let mut st = self.thread.state.lock().await;
                let has_pending = self
                    .pending_input
                    .lock()
                    .map(|p| !p.is_empty())
                    .unwrap_or(false);
                if has_pending {
                    continue;
                }
                if let Some(active) = st.active.as_mut().filter(|a| a.turn_id == self.turn_id) {
                    active.closing = true;
                }
                return Outcome::Completed;
            }
            let results = tools::run_all(self, calls).await;
            let interrupted = self.cancel.is_cancelled();
            self.record_history(results).await;
            if interrupted {
                return Outcome::Interrupted;
            }
            if let Some(err) = tools::take_fatal(self) {
                return Outcome::Failed(err);
            }
        }
    }

    /// One model exchange: streams a response, emitting message and reasoning items when
    /// `emit_items`, and returns the response's output items (authoritative, from `.done`).
    pub async fn exchange(&mut self, body: Value, emit_items: bool) -> Result<Vec<Value>, Stop> {
        self.attempt = Some(AttemptItems::default());
        let result = self.stream_response(body, emit_items).await;
        let attempt = self.attempt.take().unwrap_or_default();
        // Only a completed response is recorded; an interrupted or failed one is not part of
        // the history the model will see either.
        if result.is_ok() {
            self.persist(attempt.entries);
            self.items.extend(attempt.items);
            if attempt.last_agent_message.is_some() {
                self.last_agent_message = attempt.last_agent_message;
            }
        }
        result
    }

    async fn stream_response(&mut self, body: Value, emit_items: bool) -> Result<Vec<Value>, Stop> {
        let Some(model) = self.model.clone() else {
            return Err(Stop::Failed(TurnError::new(
                "no model client",
                CodexErrorInfo::Kind(CodexErrorKind::Other),
            )));
        };
        let headers = vec![
            ("originator".to_string(), self.runtime.originator()),
            ("user-agent".to_string(), self.runtime.user_agent()),
            ("session-id".to_string(), self.thread_id.clone()),
            ("thread-id".to_string(), self.thread_id.clone()),
            ("x-client-request-id".to_string(), self.turn_id.clone()),
        ];
        let mut rx = model.stream(ResponsesRequest { body, headers });
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
                    open.started(self, &item).await;
                }
                ResponseEvent::OutputItemAdded(_) => {}
                ResponseEvent::OutputTextDelta { item_id, delta } if emit_items => {
                    let id = open.ensure_message(self, item_id).await;
                    open.message_text.push_str(&delta);
                    self.client()
                        .notify::<m::AgentMessageDelta>(&AgentMessageDeltaNotification {
                            thread_id: self.thread_id.clone(),
                            turn_id: self.turn_id.clone(),
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
                        self.client()
                            .notify::<m::ReasoningSummaryTextDelta>(
                                &ReasoningSummaryTextDeltaNotification {
                                    thread_id: self.thread_id.clone(),
                                    turn_id: self.turn_id.clone(),
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
                        self.client()
                            .notify::<m::ReasoningSummaryPartAdded>(
                                &ReasoningSummaryPartAddedNotification {
                                    thread_id: self.thread_id.clone(),
                                    turn_id: self.turn_id.clone(),
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
                        self.client()
                            .notify::<m::ReasoningTextDelta>(&ReasoningTextDeltaNotification {
                                thread_id: self.thread_id.clone(),
                                turn_id: self.turn_id.clone(),
                                item_id: id.clone(),
                                delta,
                                content_index,
                            })
                            .await;
                    }
                }
                ResponseEvent::OutputItemDone(item) => {
                    if emit_items {
                        open.done(self, &item).await;
                    }
                    outputs.push(item);
                }
                ResponseEvent::Completed { usage, .. } => {
                    if let Some(u) = usage {
                        self.add_usage(u).await;
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
                    self.attempt = Some(AttemptItems::default());
                    open = OpenItems::default();
                    let mut info = serde_json::Map::new();
                    info.insert(
                        "responseStreamDisconnected".into(),
                        json!({"httpStatusCode": http_status}),
                    );
                    self.client()
                        .notify::<m::Error>(&ErrorNotification {
                            thread_id: self.thread_id.clone(),
                            turn_id: self.turn_id.clone(),
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

    async fn add_usage(&mut self, u: codex_model::TokenUsage) {
        let b = TokenUsageBreakdown {
            total_tokens: u.total_tokens,
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_input_tokens: 0,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
        };
        let window = self.context_window();
        let usage = {
            let mut st = self.thread.state.lock().await;
            st.usage.total.add(&b);
            st.usage.last = b;
            st.usage.model_context_window = Some(window);
            st.usage.clone()
        };
        self.turn_usage.total.add(&b);
        self.turn_usage.last = b;
        self.turn_usage.model_context_window = Some(window);
        self.client()
            .notify::<m::ThreadTokenUsageUpdated>(&ThreadTokenUsageUpdatedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                token_usage: usage.clone(),
            })
            .await;
        self.persist(vec![rollout::token_count(&usage)]);
    }

    async fn finish(mut self, outcome: Outcome, kind: TurnKind) {
        if let Some(active) = self
            .thread
            .state
            .lock()
            .await
            .active
            .as_mut()
            .filter(|a| a.turn_id == self.turn_id)
        {
            active.closing = true;
        }
        let outcome = match (outcome, self.persist_error.take()) {
            (Outcome::Completed, Some(e)) => Outcome::Failed(TurnError::new(
                format!("the thread could not be saved: {e}"),
                CodexErrorInfo::Kind(CodexErrorKind::Other),
            )),
            (o, _) => o,
        };
        let completed_at = chrono::Utc::now().timestamp();
        let duration_ms = self.started.elapsed().as_millis() as i64;
        let (status, error, thread_status) = match &outcome {
            Outcome::Completed => (TurnStatus::Completed, None, ThreadStatus::Idle),
            Outcome::Interrupted => (TurnStatus::Interrupted, None, ThreadStatus::Idle),
            Outcome::Failed(e) => (
                TurnStatus::Failed,
                Some(e.clone()),
                ThreadStatus::SystemError,
            ),
        };
        let end = TurnEnd {
            turn_id: &self.turn_id,
            last_agent_message: self.last_agent_message.as_deref(),
            error: error.as_ref(),
            started_at: self.started_at,
            completed_at,
            duration_ms,
            usage: Some(&self.turn_usage),
        };
        let mut entries = Vec::new();
        if let Outcome::Interrupted = outcome {
            // A stopped regular turn leaves a marker in the history the model sees next (and in
            // the file, so a resumed thread sees the same); a stopped compaction does not.
            if kind == TurnKind::Regular {
                let marker = rollout::user_message_item(vec![
                    json!({"type": "input_text", "text": TURN_ABORTED_MARKER}),
                ]);
                entries.push(rollout::response_item(&marker));
                self.thread.state.lock().await.history.push(marker);
            }
            entries.push(rollout::turn_aborted(&end));
        } else {
            entries.push(rollout::task_complete(&end));
        }
        self.persist(entries);
        {
            // Clear the active turn before announcing the end, so a client that starts the next
            // turn as soon as it sees `turn/completed` gets a fresh turn.
            let mut st = self.thread.state.lock().await;
            if st
                .active
                .as_ref()
                .is_some_and(|a| a.turn_id == self.turn_id)
            {
                st.active = None;
            }
            st.status = thread_status.clone();
            if let Ok(Some(rec)) = self
                .runtime
                .store_now()
                .and_then(|s| s.get(&self.thread_id).map_err(crate::CoreError::from_store))
            {
                st.record = rec;
            }
        }
        // The official order: the thread's new status, then (on failure) the error, then the end.
        let client = self.client().clone();
        client
            .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: self.thread_id.clone(),
                status: thread_status,
            })
            .await;
        if let Some(err) = &error {
            client
                .notify::<m::Error>(&ErrorNotification {
                    thread_id: self.thread_id.clone(),
                    turn_id: self.turn_id.clone(),
                    will_retry: false,
                    error: err.clone(),
                })
                .await;
        }
        let (items, view) = match status {
            TurnStatus::Completed => (std::mem::take(&mut self.items), TurnItemsView::Full),
            _ => (Vec::new(), TurnItemsView::NotLoaded),
        };
        let turn = self.wire_turn(status, error, items, view);
        client
            .notify::<m::TurnCompleted>(&TurnCompletedNotification {
                thread_id: self.thread_id.clone(),
                turn,
            })
            .await;
        // Every line is already written (a kill -9 loses nothing); the fsync that protects
        // against power loss runs off the turn's critical path.
        if !self.thread.ephemeral {
            let Ok(store) = self.runtime.store_now().cloned() else {
                return;
            };
            let thread_id = self.thread_id.clone();
            self.runtime.inner.tasks.spawn_blocking(move || {
                if let Err(e) = store.sync(&thread_id) {
                    tracing::warn!(thread = %thread_id, "rollout sync failed: {e}");
                }
            });
        }
    }

    pub fn set_last_agent_message(&mut self, text: &str) {
        match &mut self.attempt {
            Some(attempt) => attempt.last_agent_message = Some(text.to_string()),
            None => self.last_agent_message = Some(text.to_string()),
        }
    }
}

/// Items completed by the model response being streamed, recorded once it completes.
#[derive(Default)]
struct AttemptItems {
    entries: Vec<RolloutEntry>,
    items: Vec<ThreadItem>,
    last_agent_message: Option<String>,
}

const TURN_ABORTED_MARKER: &str = "<turn_aborted>\nThe user stopped the previous turn on purpose. \
Commands it started may have partly run; check the current state before trying again.\n</turn_aborted>";

/// The message and reasoning items of the response being streamed.
#[derive(Default)]
struct OpenItems {
    message: Option<(String, i64)>,
    message_text: String,
    reasoning: Option<(String, i64)>,
}

impl OpenItems {
    async fn started(&mut self, turn: &TurnRun, item: &Value) {
        match item["type"].as_str() {
            Some("message") => {
                let id = item_id(item);
                let started = now_ms();
                turn.emit_item_started(&agent_message(&id, "", None), started)
                    .await;
                self.message = Some((id, started));
                self.message_text.clear();
            }
            Some("reasoning") => {
                let id = item_id(item);
                let started = now_ms();
                turn.emit_item_started(
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

    async fn ensure_message(&mut self, turn: &TurnRun, item_id: Option<String>) -> String {
        if let Some((id, _)) = &self.message {
            return id.clone();
        }
        let id = item_id.unwrap_or_else(|| format!("msg_{}", uuid::Uuid::now_v7()));
        let started = now_ms();
        turn.emit_item_started(&agent_message(&id, "", None), started)
            .await;
        self.message = Some((id.clone(), started));
        id
    }

    async fn done(&mut self, turn: &mut TurnRun, item: &Value) {
        match item["type"].as_str() {
            Some("message") if item["role"] == "assistant" || item["role"].is_null() => {
                let text = rollout::content_text(item);
                let (id, started) = match self.message.take() {
                    Some(open) => open,
                    None => {
                        let id = item_id(item);
                        let started = now_ms();
                        turn.emit_item_started(&agent_message(&id, "", None), started)
                            .await;
                        (id, started)
                    }
                };
                let phase = serde_json::from_value(item["phase"].clone()).ok();
                turn.set_last_agent_message(&text);
                turn.complete_item(agent_message(&id, &text, phase), started)
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
                        turn.emit_item_started(&empty, started).await;
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
                turn.complete_item(reasoning, started).await;
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
pub(crate) fn model_error(e: &ModelError) -> TurnError {
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
