//! The model's command sessions on one thread (`exec_command`, `write_stdin`): a
//! [`codex_exec::SessionTable`] plus, per live session, what is needed to report its
//! `commandExecution` item.
//!
//! A session's item completes exactly once, when its process exits, with the whole output: the
//! call that sees the exit reports it (so it is part of that call's results), and otherwise a
//! watcher task does, as soon as the process is gone, and records it in the rollout itself
//! (the turn that started the session may have ended). The watcher also kills the session when
//! its turn is interrupted. Every session dies with its thread: the table kills them all when
//! it is dropped or [`ExecSessions::kill_all`] runs (thread unload, server exit).

use super::command_deltas::{pumped, spawn_pump, DeltaTarget, DELTA_QUEUE};
use super::command_item::{CommandItem, ItemEnd};
use super::context::{CallScope, ToolCtx};
use crate::clock::now_ms;
use crate::rollout;
use crate::sink::Sink;
use crate::store_access::StoreAccess;
use codex_exec::{
    ExecError, ProcessSpec, Session, SessionLimits, SessionOwner, SessionTable, UnifiedExecOutput,
    UnifiedExecStatus, WriteStdinError,
};
use codex_protocol::methods as m;
use codex_protocol::v2::{ItemCompletedNotification, TerminalInteractionNotification};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Sessions kept per thread; starting one more closes the least recently used idle one.
pub const MAX_SESSIONS: usize = codex_exec::DEFAULT_MAX_SESSIONS;
/// How long a completion waits for the last deltas, and a killed session for its exit.
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// The sessions of one thread (a [`super::ThreadTools::resource`]).
pub struct ExecSessions {
    table: SessionTable,
    /// Item state of the sessions that outlived their `exec_command` call.
    items: Mutex<HashMap<i32, Arc<SessionItem>>>,
}

impl Default for ExecSessions {
    fn default() -> Self {
        ExecSessions {
            table: SessionTable::new(MAX_SESSIONS),
            items: Mutex::new(HashMap::new()),
        }
    }
}

/// What reports a session's item, whoever sees the process end.
struct SessionItem {
    item: CommandItem,
    id: i32,
    session: Arc<Session>,
    /// The turn that started the session (its item belongs there) and its channel.
    owner_turn: String,
    thread_id: String,
    sink: Sink,
    /// Where the watcher records the item; `None` for an ephemeral thread.
    rollout: Option<StoreAccess>,
    completed: AtomicBool,
    /// Calls waiting on the session right now: one of them reports an exit it sees.
    busy: watch::Sender<usize>,
    pump_done: watch::Receiver<bool>,
}

/// What `exec_command` got.
pub enum StartOutcome {
    /// The process exited within the yield; the caller completes the item.
    Exited {
        output: UnifiedExecOutput,
        end: ItemEnd,
    },
    /// Still running: the session stays for `write_stdin`, its item completes at exit.
    Running { output: UnifiedExecOutput },
    /// The turn was interrupted while waiting; the session was killed.
    Interrupted,
}

/// What `write_stdin` got.
pub enum PollOutcome {
    Output(UnifiedExecOutput),
    Failed(WriteStdinError),
    /// The turn was interrupted while waiting.
    Interrupted,
}

/// A new session's start: the command, its item, and where its output goes.
pub struct SessionStart {
    pub id: i32,
    pub item: CommandItem,
    pub spec: ProcessSpec,
    pub yield_time_ms: Option<u64>,
}

impl ExecSessions {
    /// A fresh process id for the thread (never reused).
    pub fn reserve_id(&self) -> i32 {
        self.table.reserve_id()
    }

    /// Kills every session (thread unload, server exit).
    pub fn kill_all(&self) {
        self.table.kill_all();
    }

    fn items(&self) -> MutexGuard<'_, HashMap<i32, Arc<SessionItem>>> {
        // Every update is one insert or remove: a poisoned map is still consistent.
        self.items
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `exec_command`: starts the command as a session of `ctx`'s turn and waits up to its
    /// yield. Output streams as deltas of the item meanwhile.
    ///
    /// # Errors
    /// The command could not be started (nothing runs then).
    ///
    /// # Cancellation
    /// When the turn is interrupted during the wait, the session is killed and its item
    /// completes as it dies.
    pub async fn start(
        self: &Arc<Self>,
        ctx: &ToolCtx,
        start: SessionStart,
    ) -> Result<StartOutcome, ExecError> {
        let target = DeltaTarget {
            sink: ctx.sink.clone(),
            thread_id: ctx.thread_id.clone(),
            turn_id: ctx.turn_id.clone(),
            item_id: start.item.id.clone(),
        };
        let (tx, rx) = mpsc::channel(DELTA_QUEUE);
        let pump_done = spawn_pump(target, rx);
        let owner = SessionOwner {
            turn_id: ctx.turn_id.clone(),
            item_id: start.item.id.clone(),
        };
        let id = start.id;
        let started = self.table.exec_command(
            id,
            owner,
            start.spec,
            SessionLimits::default(),
            start.yield_time_ms,
            Some(tx),
        );
        let outcome = tokio::select! {
            outcome = started => Some(outcome?),
            _ = ctx.cancel.cancelled() => None,
        };
        let Some(outcome) = outcome else {
            // Interrupted during the wait: the session is in the table; its watcher kills it
            // (the turn's token has fired) and completes the item.
            if let Some(session) = self.table.get(id) {
                self.watch(ctx, start.item, id, session, pump_done);
            }
            return Ok(StartOutcome::Interrupted);
        };
        match outcome.output.status {
            UnifiedExecStatus::Exited { exit_code } => {
                pumped(pump_done, SETTLE_WAIT).await;
                let end = ItemEnd::exited(
                    exit_code,
                    outcome.session.transcript().text,
                    outcome.session.started().elapsed(),
                );
                Ok(StartOutcome::Exited {
                    output: outcome.output,
                    end,
                })
            }
            UnifiedExecStatus::Running { .. } => {
                self.watch(ctx, start.item, id, outcome.session, pump_done);
                Ok(StartOutcome::Running {
                    output: outcome.output,
                })
            }
        }
    }

    /// Registers a running session's item and starts its watcher.
    fn watch(
        self: &Arc<Self>,
        ctx: &ToolCtx,
        item: CommandItem,
        id: i32,
        session: Arc<Session>,
        pump_done: watch::Receiver<bool>,
    ) {
        let entry = Arc::new(SessionItem {
            item,
            id,
            session,
            owner_turn: ctx.turn_id.clone(),
            thread_id: ctx.thread_id.clone(),
            sink: ctx.sink.clone(),
            rollout: ctx.rollout.clone(),
            completed: AtomicBool::new(false),
            busy: watch::channel(0).0,
            pump_done,
        });
        self.items().insert(id, entry.clone());
        // Weak: the watcher must not keep the table (and so every session) alive after the
        // thread is gone; dropping the table is what kills the sessions.
        let table = Arc::downgrade(self);
        ctx.tasks
            .spawn(watch_session(table, entry, ctx.cancel.clone()));
    }

    /// `write_stdin`: writes `chars` (announced as a terminal interaction) to session `id`,
    /// then waits up to the yield for output. An exit it sees completes the session's item in
    /// `scope`.
    pub async fn poll(
        &self,
        scope: &mut CallScope,
        id: i32,
        chars: &str,
        yield_time_ms: Option<u64>,
    ) -> PollOutcome {
        let ctx = scope.ctx.clone();
        let entry = self.items().get(&id).cloned();
        // Input only reaches a terminal; a write to a session without one is refused below.
        if let Some(entry) = entry
            .as_ref()
            .filter(|e| !chars.is_empty() && e.session.is_tty())
        {
            ctx.sink
                .notify::<m::TerminalInteraction>(&TerminalInteractionNotification {
                    thread_id: ctx.thread_id.clone(),
                    turn_id: ctx.turn_id.clone(),
                    item_id: entry.item.id.clone(),
                    process_id: id.to_string(),
                    stdin: chars.to_string(),
                })
                .await;
        }
        let _busy = entry.as_ref().map(|e| Busy::enter(e.clone()));
        let result = tokio::select! {
            r = self.table.write_stdin(id, chars.as_bytes(), yield_time_ms) => r,
            _ = ctx.cancel.cancelled() => return PollOutcome::Interrupted,
        };
        let output = match result {
            Ok(output) => output,
            Err(e) => return PollOutcome::Failed(e),
        };
        if let (UnifiedExecStatus::Exited { exit_code }, Some(entry)) = (output.status, &entry) {
            if entry.claim() {
                self.items().remove(&id);
                pumped(entry.pump_done.clone(), SETTLE_WAIT).await;
                let item = entry.item.ended(Some(id), &entry.end(exit_code));
                scope
                    .item_completed_in(&entry.owner_turn, item, entry.item.started_ms)
                    .await;
            }
        }
        PollOutcome::Output(output)
    }
}

impl SessionItem {
    /// True for the one caller that gets to report the item.
    fn claim(&self) -> bool {
        !self.completed.swap(true, Ordering::AcqRel)
    }

    fn end(&self, exit_code: i32) -> ItemEnd {
        ItemEnd::exited(
            exit_code,
            self.session.transcript().text,
            self.session.started().elapsed(),
        )
    }

    /// Announces the item's completion and records it in the rollout, under the turn that
    /// started the session.
    async fn complete_alone(&self, exit_code: i32) {
        let item = self.item.ended(Some(self.id), &self.end(exit_code));
        let completed_ms = now_ms();
        self.sink
            .notify::<m::ItemCompleted>(&ItemCompletedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.owner_turn.clone(),
                completed_at_ms: completed_ms,
                item: item.clone(),
            })
            .await;
        if let Some(store) = &self.rollout {
            let line = rollout::item_completed(
                &self.thread_id,
                &self.owner_turn,
                &item,
                self.item.started_ms,
                completed_ms,
            );
            if let Err(e) = store.append(&self.thread_id, vec![line]).await {
                tracing::warn!(thread = %self.thread_id, "cannot record a session's end: {e}");
            }
        }
    }
}

/// Kills every process the thread's tools keep running (thread unload, server exit).
pub fn kill_thread_processes(tools: &super::thread_tools::ThreadTools) {
    tools.resource::<ExecSessions>().kill_all();
}

/// Marks a session busy while a call waits on it.
struct Busy(Arc<SessionItem>);

impl Busy {
    fn enter(entry: Arc<SessionItem>) -> Busy {
        entry.busy.send_modify(|n| *n += 1);
        Busy(entry)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Waits for the session's exit (killing it if its turn is interrupted first), then reports
/// its item unless a call already did.
async fn watch_session(
    table: Weak<ExecSessions>,
    entry: Arc<SessionItem>,
    turn_cancel: CancellationToken,
) {
    let exit_code = tokio::select! {
        code = entry.session.wait() => code,
        _ = turn_cancel.cancelled() => {
            match table.upgrade() {
                Some(table) => {
                    table.table.kill_turn(&entry.owner_turn);
                }
                None => entry.session.kill(),
            }
            entry.session.kill();
            tokio::time::timeout(SETTLE_WAIT, entry.session.wait())
                .await
                .unwrap_or(-1)
        }
    };
    pumped(entry.pump_done.clone(), SETTLE_WAIT).await;
    // A call waiting on the session sees the exit too and reports it with its own result.
    let mut busy = entry.busy.subscribe();
    let _ = busy.wait_for(|n| *n == 0).await;
    if !entry.claim() {
        return;
    }
    if let Some(table) = table.upgrade() {
        table.items().remove(&entry.id);
    }
    entry.complete_alone(exit_code).await;
}
