//! The record of one turn: the items clients are told about, the history the model sees next,
//! and the rollout lines that make both durable.
//!
//! Rollout lines are batched: they collect in a journal that is written as one append (one
//! `write(2)` and one index update). The journal is written once at the end, before
//! `turn/completed` is sent, so everything a client was told is complete is on disk when it
//! hears so; and when the turn waits on something that takes a while (a model request, tool
//! calls), what it has so far is written after a short grace, so a reader of the file (a
//! `thread/read`, the next process after a crash) sees the turn in progress. A turn that
//! completes within the grace costs one append.

use crate::clock::now_ms;
use crate::rollout;
use crate::sink::Sink;
use crate::store_access::StoreAccess;
use crate::thread::LoadedThread;
use crate::tools::Completed;
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use codex_store::RolloutEntry;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long a turn may wait before what it recorded so far is written.
const FLUSH_GRACE: Duration = Duration::from_millis(25);

pub struct Recorder {
    pub sink: Sink,
    store: StoreAccess,
    pub thread: Arc<LoadedThread>,
    pub thread_id: String,
    pub turn_id: String,
    /// Items completed in this turn, in order (sent back in `turn/completed`).
    pub items: Vec<ThreadItem>,
    pub last_agent_message: Option<String>,
    /// The turn's own token usage.
    pub usage: ThreadTokenUsage,
    pub context_window: i64,
    /// What the model response being streamed has completed so far. Clients see each item as
    /// it completes, but it is recorded only when the response completes, so a retried stream
    /// does not record the failed attempt's items twice.
    attempt: Option<AttemptItems>,
    /// Rollout lines not yet handed to the store (shared with a delayed flush).
    journal: Arc<Mutex<Vec<RolloutEntry>>>,
    /// The delayed flush, if one is scheduled or running: cancelling it during its grace
    /// leaves the lines in the journal; once it appends, it runs to the end.
    flushing: Option<(CancellationToken, JoinHandle<Result<(), String>>)>,
    /// The first failed append: it fails the turn at its end, so a full disk is reported
    /// instead of history being lost silently.
    persist_error: Option<String>,
}

/// Items completed by the model response being streamed, recorded once it completes.
#[derive(Default)]
struct AttemptItems {
    entries: Vec<RolloutEntry>,
    items: Vec<ThreadItem>,
    last_agent_message: Option<String>,
}

impl Recorder {
    pub fn new(
        sink: Sink,
        store: StoreAccess,
        thread: Arc<LoadedThread>,
        turn_id: String,
        context_window: i64,
    ) -> Recorder {
        Recorder {
            sink,
            store,
            thread_id: thread.id.clone(),
            thread,
            turn_id,
            items: Vec::new(),
            last_agent_message: None,
            usage: ThreadTokenUsage::default(),
            context_window,
            attempt: None,
            journal: Arc::new(Mutex::new(Vec::new())),
            flushing: None,
            persist_error: None,
        }
    }

    /// Queues rollout lines (nothing for ephemeral threads).
    pub fn persist(&mut self, entries: Vec<RolloutEntry>) {
        if !self.thread.ephemeral && !entries.is_empty() {
            if let Ok(mut journal) = self.journal.lock() {
                journal.extend(entries);
            }
        }
    }

    /// The turn is about to wait: unless it is done within [`FLUSH_GRACE`], write what it has
    /// recorded so far.
    pub async fn flush_soon(&mut self) {
        if self
            .flushing
            .as_ref()
            .is_some_and(|(_, h)| !h.is_finished())
        {
            return;
        }
        if self.journal.lock().map(|j| j.is_empty()).unwrap_or(true) {
            return;
        }
        self.settle().await;
        let cancel = CancellationToken::new();
        let (journal, store, thread_id) = (
            self.journal.clone(),
            self.store.clone(),
            self.thread_id.clone(),
        );
        let grace = cancel.clone();
        let task = tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(FLUSH_GRACE) => {}
                _ = grace.cancelled() => return Ok(()),
            }
            let entries = journal
                .lock()
                .map(|mut j| std::mem::take(&mut *j))
                .unwrap_or_default();
            if entries.is_empty() {
                return Ok(());
            }
            store
                .append(&thread_id, entries)
                .await
                .map_err(|e| e.to_string())
        });
        self.flushing = Some((cancel, task));
    }

    /// Stops a delayed flush that has not started (its lines stay in the journal) or waits
    /// for one that has; the first failed append is kept.
    pub async fn settle(&mut self) -> Option<String> {
        if let Some((cancel, task)) = self.flushing.take() {
            cancel.cancel();
            let result = task
                .await
                .unwrap_or_else(|e| Err(format!("rollout append task failed: {e}")));
            if let Err(e) = result {
                tracing::error!(thread = %self.thread_id, "rollout append failed: {e}");
                self.persist_error.get_or_insert(e);
            }
        }
        self.persist_error.clone()
    }

    /// Writes everything recorded now and waits for the write, before the turn does something
    /// that may wait for a long time (a tool that asks the client, a command): a crash then
    /// loses nothing the client was told. A failed append is kept to fail the turn at its end.
    pub async fn flush_now(&mut self) {
        if let Err(e) = self.flush_final().await {
            self.persist_error.get_or_insert(e);
        }
    }

    /// Writes everything recorded and waits for the write. `Err` is the first append of the
    /// turn that failed.
    pub async fn flush_final(&mut self) -> Result<(), String> {
        self.settle().await;
        let entries = self
            .journal
            .lock()
            .map(|mut j| std::mem::take(&mut *j))
            .unwrap_or_default();
        if self.thread.ephemeral || entries.is_empty() {
            return match self.persist_error.clone() {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        let written = self.store.append(&self.thread_id, entries).await;
        match (written, self.persist_error.clone()) {
            (_, Some(e)) => Err(e),
            (Ok(()), None) => Ok(()),
            (Err(e), None) => {
                tracing::error!(thread = %self.thread_id, "rollout append failed: {e}");
                Err(e.to_string())
            }
        }
    }

    /// Publishes the thread's listing metadata (updated time, preview) to other servers
    /// sharing the store. Its lines are written already; a failure here only delays what
    /// other servers list, so it is logged, not fatal.
    pub async fn publish(&self) {
        if self.thread.ephemeral {
            return;
        }
        if let Err(e) = self.store.flush(&self.thread_id).await {
            tracing::warn!(thread = %self.thread_id, "publishing listing metadata failed: {e}");
        }
    }

    /// Syncs the rollout to disk in the background (every line is already written, so a
    /// crash loses nothing; this protects against power loss).
    pub fn sync_in_background(&self, tasks: &tokio_util::task::TaskTracker) {
        if !self.thread.ephemeral {
            self.store.sync_in_background(tasks, &self.thread_id);
        }
    }

    pub async fn emit_item_started(&self, item: &ThreadItem, started_ms: i64) {
        self.sink
            .notify::<m::ItemStarted>(&ItemStartedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                started_at_ms: started_ms,
                item: item.clone(),
            })
            .await;
    }

    /// Sends `item/completed`, and records the item for the turn and the rollout.
    pub async fn complete_item(&mut self, item: ThreadItem, started_ms: i64) {
        let completed_ms = now_ms();
        self.sink
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

    /// Records items tool calls completed (already announced), in call order. Items of an
    /// earlier turn (a session polled now) go to the rollout only.
    pub fn record_completed(&mut self, completed: Vec<Completed>) {
        for c in completed {
            let entry = rollout::item_completed(
                &self.thread_id,
                &c.turn_id,
                &c.item,
                c.started_ms,
                c.completed_ms,
            );
            self.persist(vec![entry]);
            self.persist(c.extra);
            if c.turn_id == self.turn_id {
                self.items.push(c.item);
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

    pub fn set_last_agent_message(&mut self, text: &str) {
        match &mut self.attempt {
            Some(attempt) => attempt.last_agent_message = Some(text.to_string()),
            None => self.last_agent_message = Some(text.to_string()),
        }
    }

    /// Starts (or restarts, after a retry) buffering a model response's items.
    pub fn begin_attempt(&mut self) {
        self.attempt = Some(AttemptItems::default());
    }

    /// Ends the attempt: a completed response's items are recorded, others are dropped (they
    /// are not part of the history the model will see either).
    pub fn end_attempt(&mut self, completed: bool) {
        let attempt = self.attempt.take().unwrap_or_default();
        if completed {
            self.persist(attempt.entries);
            self.items.extend(attempt.items);
            if attempt.last_agent_message.is_some() {
                self.last_agent_message = attempt.last_agent_message;
            }
        }
    }

    /// Adds a response's usage to the thread and the turn, and announces the thread's.
    pub async fn add_usage(&mut self, u: codex_model::TokenUsage) {
        let b = TokenUsageBreakdown {
            total_tokens: u.total_tokens,
            input_tokens: u.input_tokens,
            cached_input_tokens: u.cached_input_tokens,
            cache_write_input_tokens: 0,
            output_tokens: u.output_tokens,
            reasoning_output_tokens: u.reasoning_output_tokens,
        };
        let window = self.context_window;
        let usage = {
            let mut st = self.thread.state.lock().await;
            st.usage.total.add(&b);
            st.usage.last = b;
            st.usage.model_context_window = Some(window);
            st.usage.clone()
        };
        self.usage.total.add(&b);
        self.usage.last = b;
        self.usage.model_context_window = Some(window);
        self.sink
            .notify::<m::ThreadTokenUsageUpdated>(&ThreadTokenUsageUpdatedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                token_usage: usage.clone(),
            })
            .await;
        self.persist(vec![rollout::token_count(&usage)]);
    }
}
