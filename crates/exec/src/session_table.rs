//! The sessions of one thread, behind the model's `exec_command` and
//! `write_stdin` tools.
//!
//! Sessions are keyed by a decimal id (the item's `processId`), owned by the
//! turn that started them, and bounded in number: starting one more than
//! [`SessionTable::new`]'s maximum closes the least recently used idle
//! session, preferring ones that already exited. [`SessionTable::kill_turn`]
//! (turn interrupted) and [`SessionTable::kill_all`] (thread unloaded, server
//! exit; also on drop) kill the process groups. Yield windows are clamped as
//! the official runtime clamps them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::format::{format_unified_exec_output, UnifiedExecStatus};
use crate::session::{Session, SessionLimits};
use crate::spawn::ProcessSpec;
use crate::types::{ControlError, ExecError, OutputChunk};

/// Sessions kept per thread unless configured otherwise.
pub const DEFAULT_MAX_SESSIONS: usize = 64;
const FIRST_SESSION_ID: i32 = 1000;
/// `exec_command`: default and bounds of `yield_time_ms`.
const EXEC_YIELD_DEFAULT_MS: u64 = 10_000;
const MIN_YIELD_MS: u64 = 250;
const MAX_YIELD_MS: u64 = 30_000;
/// `write_stdin`: default yield, and the bounds of an empty poll.
const WRITE_YIELD_DEFAULT_MS: u64 = 250;
const MIN_POLL_MS: u64 = 5_000;
const MAX_POLL_MS: u64 = 300_000;

/// One `exec_command` or `write_stdin` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedExecOutput {
    pub wall_time: Duration,
    /// Output not returned by an earlier call.
    pub output: Vec<u8>,
    pub status: UnifiedExecStatus,
    /// Some output since the previous call was dropped (session cap).
    pub cap_reached: bool,
}

impl UnifiedExecOutput {
    /// The tool result text the model sees.
    pub fn to_model_text(&self, chunk_id: &str, max_output_tokens: Option<usize>) -> String {
        format_unified_exec_output(
            chunk_id,
            self.wall_time,
            self.status,
            &String::from_utf8_lossy(&self.output),
            max_output_tokens,
        )
    }
}

/// Who started a session: the turn (killed with it on interrupt) and the
/// `exec_command` call, whose `commandExecution` item the session feeds
/// (`terminalInteraction`, completion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOwner {
    pub turn_id: String,
    pub item_id: String,
}

/// What `exec_command` started.
pub struct ExecCommandOutcome {
    /// The session, running or exited; watch it to complete the item.
    pub session: Arc<Session>,
    pub output: UnifiedExecOutput,
}

/// Why `write_stdin` failed. The model sees `write_stdin failed: <this>`
/// ([`Self::model_text`]).
#[derive(Debug, thiserror::Error)]
pub enum WriteStdinError {
    /// No such session, or its exit was already reported.
    #[error("Unknown process id {0}")]
    UnknownProcess(i32),
    /// The command was started without a terminal, so it has no stdin.
    #[error(
        "stdin is closed for this session; rerun exec_command with tty=true to keep stdin open"
    )]
    StdinClosed,
    #[error("{0}")]
    Control(ControlError),
}

impl WriteStdinError {
    /// The tool result text for this failure.
    pub fn model_text(&self) -> String {
        format!("write_stdin failed: {self}")
    }
}

struct Entry {
    session: Arc<Session>,
    owner: SessionOwner,
    last_used: Instant,
    /// Calls currently waiting on this session; busy sessions are evicted last.
    busy: usize,
}

#[derive(Default)]
struct State {
    next_id: i32,
    entries: BTreeMap<i32, Entry>,
}

/// The live sessions of one thread.
pub struct SessionTable {
    max_sessions: usize,
    state: Mutex<State>,
}

impl SessionTable {
    /// A table holding at most `max_sessions` (at least 1) sessions.
    pub fn new(max_sessions: usize) -> Self {
        SessionTable {
            max_sessions: max_sessions.max(1),
            state: Mutex::new(State {
                next_id: FIRST_SESSION_ID,
                entries: BTreeMap::new(),
            }),
        }
    }

    /// A fresh id for the next `exec_command` (reported as the item's
    /// `processId` before the command starts). Ids are never reused.
    pub fn reserve_id(&self) -> i32 {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id = state.next_id.saturating_add(1);
        id
    }

    /// Start `spec` as session `id` for `owner`, wait up to
    /// `yield_time_ms` (default 10 s, clamped to 0.25..30 s) unless it exits
    /// first, and return its output so far. A session still running stays in
    /// the table; an exited one does not.
    ///
    /// # Errors
    /// As [`Session::start`]; nothing is added then.
    pub async fn exec_command(
        &self,
        id: i32,
        owner: SessionOwner,
        spec: ProcessSpec,
        limits: SessionLimits,
        yield_time_ms: Option<u64>,
        events: Option<mpsc::Sender<OutputChunk>>,
    ) -> Result<ExecCommandOutcome, ExecError> {
        let yield_time = yield_time_ms
            .unwrap_or(EXEC_YIELD_DEFAULT_MS)
            .clamp(MIN_YIELD_MS, MAX_YIELD_MS);
        let session = Arc::new(Session::start(spec, limits, events)?);
        // In the table before the wait, so an interrupt during it kills it.
        let evicted = self.insert(id, owner, session.clone());
        if let Some(evicted) = evicted {
            tracing::debug!(
                evicted,
                id,
                "session limit reached; closed the least recently used session"
            );
        }
        let busy = BusyGuard::new(self, id);
        let read = session.read(Duration::from_millis(yield_time)).await;
        drop(busy);
        let output = self.finish_call(id, read);
        Ok(ExecCommandOutcome { session, output })
    }

    /// Write `chars` to session `id` (nothing for an empty poll), then wait up
    /// to the yield unless it exits first, and return the new output. Yield:
    /// default 250 ms; a write waits 0.25..30 s, an empty poll 5..300 s.
    ///
    /// # Errors
    /// [`WriteStdinError::UnknownProcess`] for an unknown session or one whose
    /// exit was already reported; [`WriteStdinError::StdinClosed`] for input
    /// to a session without a terminal; [`WriteStdinError::Control`] when the
    /// write itself fails while the process keeps running.
    pub async fn write_stdin(
        &self,
        id: i32,
        chars: &[u8],
        yield_time_ms: Option<u64>,
    ) -> Result<UnifiedExecOutput, WriteStdinError> {
        let requested = yield_time_ms.unwrap_or(WRITE_YIELD_DEFAULT_MS);
        let yield_time = Duration::from_millis(if chars.is_empty() {
            requested.clamp(MIN_POLL_MS, MAX_POLL_MS)
        } else {
            requested.clamp(MIN_YIELD_MS, MAX_YIELD_MS)
        });
        let session = self.touch(id).ok_or(WriteStdinError::UnknownProcess(id))?;
        let busy = BusyGuard::new(self, id);
        let mut write_error = None;
        if !chars.is_empty() {
            match session.write(chars).await {
                Ok(()) => {}
                Err(ControlError::StdinNotStreamed) => return Err(WriteStdinError::StdinClosed),
                // Usually the process is going away: the read below reports
                // its exit; if it does not exit, the error is returned.
                Err(err) => write_error = Some(err),
            }
        }
        let read = session.read(yield_time).await;
        drop(busy);
        if let (Some(err), None) = (write_error, read.exit_code) {
            return Err(WriteStdinError::Control(err));
        }
        Ok(self.finish_call(id, read))
    }

    /// The session with this id, if the table has it.
    pub fn get(&self, id: i32) -> Option<Arc<Session>> {
        self.lock().entries.get(&id).map(|e| e.session.clone())
    }

    /// Who started session `id`, if the table has it.
    pub fn owner(&self, id: i32) -> Option<SessionOwner> {
        self.lock().entries.get(&id).map(|e| e.owner.clone())
    }

    /// Kill and drop every session `turn` started. Returns their ids.
    pub fn kill_turn(&self, turn: &str) -> Vec<i32> {
        let removed: Vec<(i32, Entry)> = {
            let mut state = self.lock();
            let ids: Vec<i32> = state
                .entries
                .iter()
                .filter(|(_, e)| e.owner.turn_id == turn)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| state.entries.remove(&id).map(|e| (id, e)))
                .collect()
        };
        removed
            .into_iter()
            .map(|(id, entry)| {
                entry.session.kill();
                id
            })
            .collect()
    }

    /// Kill and drop every session. Returns their ids.
    pub fn kill_all(&self) -> Vec<i32> {
        let removed = std::mem::take(&mut self.lock().entries);
        removed
            .into_iter()
            .map(|(id, entry)| {
                entry.session.kill();
                id
            })
            .collect()
    }

    /// Ids of the sessions in the table, ascending.
    pub fn ids(&self) -> Vec<i32> {
        self.lock().entries.keys().copied().collect()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (every update is a single insert/remove), so keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Insert, first evicting one session if the table is full. Returns the
    /// evicted id.
    fn insert(&self, id: i32, owner: SessionOwner, session: Arc<Session>) -> Option<i32> {
        let evicted = {
            let mut state = self.lock();
            let evicted = if state.entries.len() >= self.max_sessions {
                eviction_candidate(&state.entries)
                    .and_then(|victim| state.entries.remove(&victim).map(|e| (victim, e)))
            } else {
                None
            };
            state.entries.insert(
                id,
                Entry {
                    session,
                    owner,
                    last_used: Instant::now(),
                    busy: 0,
                },
            );
            evicted
        };
        evicted.map(|(victim, entry)| {
            entry.session.kill();
            victim
        })
    }

    fn touch(&self, id: i32) -> Option<Arc<Session>> {
        let mut state = self.lock();
        let entry = state.entries.get_mut(&id)?;
        entry.last_used = Instant::now();
        Some(entry.session.clone())
    }

    /// Turn a read into the call's result; an exit, once reported, removes
    /// the session so later calls get "Unknown process id".
    fn finish_call(&self, id: i32, read: crate::session::SessionRead) -> UnifiedExecOutput {
        let status = match read.exit_code {
            Some(exit_code) => {
                self.lock().entries.remove(&id);
                UnifiedExecStatus::Exited { exit_code }
            }
            None => UnifiedExecStatus::Running { session_id: id },
        };
        UnifiedExecOutput {
            wall_time: read.wall_time,
            output: read.output,
            status,
            cap_reached: read.cap_reached,
        }
    }
}

impl Default for SessionTable {
    fn default() -> Self {
        SessionTable::new(DEFAULT_MAX_SESSIONS)
    }
}

impl Drop for SessionTable {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// The session to close when the table is full: not busy before busy,
/// exited before running, then least recently used.
fn eviction_candidate(entries: &BTreeMap<i32, Entry>) -> Option<i32> {
    entries
        .iter()
        .min_by_key(|(_, e)| (e.busy > 0, e.session.exit_code().is_none(), e.last_used))
        .map(|(id, _)| *id)
}

/// Marks a session busy for the duration of a call.
struct BusyGuard<'a> {
    table: &'a SessionTable,
    id: i32,
}

impl<'a> BusyGuard<'a> {
    fn new(table: &'a SessionTable, id: i32) -> Self {
        if let Some(entry) = table.lock().entries.get_mut(&id) {
            entry.busy += 1;
        }
        BusyGuard { table, id }
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        if let Some(entry) = self.table.lock().entries.get_mut(&self.id) {
            entry.busy = entry.busy.saturating_sub(1);
            entry.last_used = Instant::now();
        }
    }
}
