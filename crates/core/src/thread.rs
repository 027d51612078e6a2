//! A loaded thread: its durable record, settings, model-facing history, usage, active turn,
//! status and tools.

use crate::settings::ThreadSettings;
use crate::status::StatusCell;
use crate::tools::{builtin_tools, ThreadTools, ToolRegistry};
use codex_protocol::v2::{
    SessionSource, Thread, ThreadStatus, ThreadTokenUsage, Turn, TurnStatus, UserInput,
};
use codex_store::ThreadRecord;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TurnKind {
    Regular,
    Compact,
    Review,
    /// The user's shell command (`thread/shellCommand`).
    Shell,
}

impl TurnKind {
    /// How errors name a turn of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            TurnKind::Regular => "regular",
            TurnKind::Compact => "compaction",
            TurnKind::Review => "review",
            TurnKind::Shell => "shell command",
        }
    }
}

/// The turn currently running on a thread.
pub struct ActiveTurn {
    pub turn_id: String,
    pub kind: TurnKind,
    pub cancel: CancellationToken,
    /// Input steered into the running turn, taken before the next model request.
    pub pending_input: Arc<Mutex<Vec<Vec<UserInput>>>>,
    /// Becomes true once the turn task has recorded its end.
    pub finished: Arc<tokio::sync::watch::Sender<bool>>,
    pub started_at: i64,
    /// Set (under the thread-state lock) once the turn has decided to end: input can no longer
    /// join it, so a `turn/start` waits for it and starts a new turn instead.
    pub closing: bool,
}

pub struct ThreadState {
    pub record: ThreadRecord,
    pub settings: ThreadSettings,
    pub history: Vec<Value>,
    pub usage: ThreadTokenUsage,
    pub active: Option<ActiveTurn>,
    pub project_docs: Option<String>,
}

pub struct LoadedThread {
    pub id: String,
    /// Ephemeral threads live in memory only.
    pub ephemeral: bool,
    /// Read without the state lock (lists, reads) and changed by turns and tools.
    pub status: Arc<StatusCell>,
    /// The tools the thread offers; they may change while it is open.
    pub registry: ToolRegistry,
    /// Tool state that outlives one call: sessions, the turn diff, approvals.
    pub tools: Arc<ThreadTools>,
    pub state: tokio::sync::Mutex<ThreadState>,
}

impl LoadedThread {
    pub fn new(record: ThreadRecord, settings: ThreadSettings, ephemeral: bool) -> Arc<Self> {
        Arc::new(LoadedThread {
            id: record.id.clone(),
            ephemeral,
            status: Arc::new(StatusCell::new(ThreadStatus::Idle)),
            registry: ToolRegistry::new(builtin_tools()),
            tools: Arc::new(ThreadTools::default()),
            state: tokio::sync::Mutex::new(ThreadState {
                record,
                settings,
                history: Vec::new(),
                usage: ThreadTokenUsage::default(),
                active: None,
                project_docs: None,
            }),
        })
    }
}

/// The wire `Thread` for a record.
pub fn wire_thread(
    record: &ThreadRecord,
    status: ThreadStatus,
    turns: Vec<Turn>,
    ephemeral: bool,
) -> Thread {
    let source = serde_json::from_value::<SessionSource>(record.source.clone()).unwrap_or(
        SessionSource::Kind(codex_protocol::v2::SessionSourceKind::AppServer),
    );
    Thread {
        id: record.id.clone(),
        session_id: record.id.clone(),
        forked_from_id: record.forked_from_id.clone(),
        parent_thread_id: None,
        preview: record.preview.clone(),
        ephemeral,
        project_id: None,
        model_provider: record.model_provider.clone(),
        model: record.model.clone(),
        reasoning_effort: None,
        created_at: record.created_at,
        updated_at: record.updated_at,
        status,
        // Threads kept in a database have no rollout file: `path` is null, as for ephemeral.
        path: (!ephemeral && !record.path.as_os_str().is_empty()).then(|| record.path.clone()),
        cwd: record.cwd.clone(),
        cli_version: record.cli_version.clone(),
        originator: Some(record.originator.clone()),
        source,
        agent_nickname: None,
        agent_role: None,
        git_info: None,
        name: record.name.clone(),
        turns,
    }
}

/// Marks the active turn of a live thread as in progress in a list rebuilt from disk.
pub fn mark_active(turns: &mut [Turn], active_turn_id: Option<&str>) {
    if let Some(id) = active_turn_id {
        if let Some(t) = turns.iter_mut().rev().find(|t| t.id == id) {
            t.status = TurnStatus::InProgress;
            t.completed_at = None;
            t.duration_ms = None;
        }
    }
}
