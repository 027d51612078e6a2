//! Running processes: a spawned `codex_exec::run` whose output is buffered and streamed as
//! `item/commandExecution/outputDelta`, and [`ExecSessions`], the per-thread table of
//! processes that outlive their `exec_command` call (polled with `write_stdin`). Sessions die
//! with their turn when it is interrupted (their tokens are children of the turn's) and with
//! their thread when it is unloaded (the table kills them on drop).

use super::context::ToolCtx;
use codex_protocol::methods as m;
use codex_protocol::v2::{
    CommandAction, CommandExecutionOutputDeltaNotification, CommandExecutionSource,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// At most this many `outputDelta` notifications per command.
const MAX_DELTAS: usize = 10_000;
/// Exec sessions kept per thread; the oldest is killed beyond this.
const MAX_SESSIONS: usize = 64;
/// Unread output kept per session between polls (the newest bytes win).
const MAX_UNREAD_BYTES: usize = 1024 * 1024;

/// The exec sessions of one thread (a [`super::ThreadTools::resource`]).
#[derive(Default)]
pub struct ExecSessions {
    sessions: Mutex<BTreeMap<i32, Arc<ExecSession>>>,
}

impl ExecSessions {
    /// Keeps a still-running process for later `write_stdin` polls. Cancelled sessions are
    /// dropped first; beyond the cap the oldest session is killed.
    pub fn register(&self, session: Arc<ExecSession>) {
        let Ok(mut sessions) = self.sessions.lock() else {
            return;
        };
        sessions.retain(|_, s| s.process.finished().is_none_or(|f| !f.cancelled));
        while sessions.len() >= MAX_SESSIONS {
            let Some((&oldest, _)) = sessions.iter().next() else {
                break;
            };
            if let Some(s) = sessions.remove(&oldest) {
                s.process.cancel.cancel();
            }
        }
        sessions.insert(session.process.id, session);
    }

    pub fn session(&self, id: i32) -> Option<Arc<ExecSession>> {
        self.sessions.lock().ok()?.get(&id).cloned()
    }

    pub fn remove(&self, id: i32) {
        if let Ok(mut s) = self.sessions.lock() {
            s.remove(&id);
        }
    }
}

impl Drop for ExecSessions {
    fn drop(&mut self) {
        if let Ok(sessions) = self.sessions.lock() {
            for s in sessions.values() {
                s.process.cancel.cancel();
            }
        }
    }
}

/// How a process ended. Cloneable (unlike `ExecError`) so every waiter can see it.
#[derive(Clone, Debug)]
pub struct Finished {
    pub exit_code: i32,
    pub aggregated: String,
    pub duration: Duration,
    pub timed_out: bool,
    /// Set when the process could not be run (spawn failure, sandbox error).
    pub error: Option<String>,
    /// The turn was interrupted and the process group killed.
    pub cancelled: bool,
}

/// A spawned command.
pub struct Process {
    pub id: i32,
    pub cancel: CancellationToken,
    unread: Arc<Mutex<Vec<u8>>>,
    done: watch::Receiver<Option<Finished>>,
}

impl Process {
    /// Spawns `request` as process `id`; output is buffered and streamed as deltas of `item_id`.
    pub fn spawn(
        ctx: &ToolCtx,
        id: i32,
        item_id: &str,
        request: codex_exec::ExecRequest,
        cancel: CancellationToken,
    ) -> Process {
        let unread = Arc::new(Mutex::new(Vec::new()));
        let (done_tx, done) = watch::channel(None);
        let (tx, mut rx) = mpsc::channel::<codex_exec::OutputChunk>(64);
        let pump_buf = unread.clone();
        let sink = ctx.sink.clone();
        let (thread_id, turn_id, item) = (
            ctx.thread_id.clone(),
            ctx.turn_id.clone(),
            item_id.to_string(),
        );
        let pump = tokio::spawn(async move {
            let mut sent = 0usize;
            while let Some(chunk) = rx.recv().await {
                if let Ok(mut b) = pump_buf.lock() {
                    b.extend_from_slice(&chunk.bytes);
                    // Output nobody polls must not grow without bound: keep the newest bytes.
                    if b.len() > MAX_UNREAD_BYTES {
                        let excess = b.len() - MAX_UNREAD_BYTES;
                        b.drain(..excess);
                    }
                }
                if sent < MAX_DELTAS {
                    sent += 1;
                    sink.notify::<m::CommandExecutionOutputDelta>(
                        &CommandExecutionOutputDeltaNotification {
                            thread_id: thread_id.clone(),
                            turn_id: turn_id.clone(),
                            item_id: item.clone(),
                            delta: String::from_utf8_lossy(&chunk.bytes).into_owned(),
                        },
                    )
                    .await;
                }
            }
        });
        let run_cancel = cancel.clone();
        tokio::spawn(async move {
            let result = codex_exec::run(request, Some(tx), run_cancel).await;
            // Every delta goes out before the end is visible.
            let _ = pump.await;
            let finished = match result {
                Ok(out) => Finished {
                    exit_code: out.exit_code,
                    aggregated: out.aggregated_output,
                    duration: out.duration,
                    timed_out: out.timed_out,
                    error: None,
                    cancelled: false,
                },
                Err(codex_exec::ExecError::Cancelled { partial }) => Finished {
                    exit_code: partial.exit_code,
                    aggregated: partial.aggregated_output,
                    duration: partial.duration,
                    timed_out: false,
                    error: None,
                    cancelled: true,
                },
                Err(e) => Finished {
                    exit_code: -1,
                    aggregated: String::new(),
                    duration: Duration::ZERO,
                    timed_out: false,
                    error: Some(e.to_string()),
                    cancelled: false,
                },
            };
            done_tx.send_replace(Some(finished));
        });
        Process {
            id,
            cancel,
            unread,
            done,
        }
    }

    pub fn finished(&self) -> Option<Finished> {
        self.done.borrow().clone()
    }

    /// Waits until the process ends or `limit` passes. When `turn_cancel` fires the process is
    /// being killed (its token is a child of the turn's); wait, bounded, for it to be reaped.
    pub async fn wait(&self, limit: Duration, turn_cancel: &CancellationToken) -> Option<Finished> {
        tokio::select! {
            f = wait_done(self.done.clone(), limit) => f,
            _ = turn_cancel.cancelled() => wait_done(self.done.clone(), Duration::from_secs(5)).await,
        }
    }

    /// Output read since the last call.
    pub fn take_unread(&self) -> String {
        let bytes = self
            .unread
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

async fn wait_done(
    mut done: watch::Receiver<Option<Finished>>,
    limit: Duration,
) -> Option<Finished> {
    match tokio::time::timeout(limit, done.wait_for(|f| f.is_some())).await {
        Ok(Ok(f)) => f.clone(),
        _ => None,
    }
}

/// A process that outlived its `exec_command` call, with what is needed to complete its item.
pub struct ExecSession {
    pub process: Process,
    pub turn_id: String,
    pub item_id: String,
    pub command: String,
    pub cwd: PathBuf,
    pub actions: Vec<CommandAction>,
    pub started_ms: i64,
    pub source: CommandExecutionSource,
}
