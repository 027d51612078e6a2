//! Public data types exchanged with the store: new-thread parameters, rollout lines,
//! thread records and list queries.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Parameters for a new thread (and for the target of a fork).
#[derive(Debug, Clone, PartialEq)]
pub struct NewThread {
    pub id: String,
    pub cwd: PathBuf,
    pub originator: String,
    pub cli_version: String,
    /// Session source as it appears in `session_meta.source` (e.g. `"vscode"`).
    pub source: Value,
    pub model_provider: String,
    pub model: Option<String>,
    pub base_instructions: Option<String>,
    /// Client-defined tools (`session_meta.dynamic_tools`, the official spelling), as the
    /// client gave them; a thread reloaded from disk offers them again.
    pub dynamic_tools: Option<Value>,
    pub forked_from_id: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One item to append: the rollout `type` and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutEntry {
    /// `session_meta`, `response_item`, `event_msg`, `turn_context`, `compacted`, ...
    pub kind: String,
    pub payload: Value,
}

impl RolloutEntry {
    pub fn new(kind: impl Into<String>, payload: Value) -> Self {
        RolloutEntry {
            kind: kind.into(),
            payload,
        }
    }
}

/// One parsed line of a rollout file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutLine {
    #[serde(default)]
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u64>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
}

/// A line of a rollout file that could not be parsed (1-based line number).
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedLine {
    pub line: usize,
    pub reason: String,
}

/// Everything in a thread's rollout file.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedThread {
    pub record: ThreadRecord,
    pub lines: Vec<RolloutLine>,
    pub skipped: Vec<SkippedLine>,
}

/// Indexed metadata of one thread.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadRecord {
    pub id: String,
    /// Absolute path of the rollout file.
    pub path: PathBuf,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds (modification time of the rollout file).
    pub updated_at: i64,
    pub cwd: PathBuf,
    pub model_provider: String,
    pub model: Option<String>,
    pub source: Value,
    pub cli_version: String,
    pub originator: String,
    pub name: Option<String>,
    /// Text of the first user message, `""` until there is one.
    pub preview: String,
    pub archived: bool,
    pub forked_from_id: Option<String>,
}

/// Sort column for [`ListQuery`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    CreatedAt,
    UpdatedAt,
}

/// Parameters of [`crate::Store::list`].
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// `true` lists only archived threads, `false` only live ones.
    pub archived: bool,
    pub cursor: Option<String>,
    /// Page size; default 25, clamped to 1..=200.
    pub limit: Option<u32>,
    pub sort_key: SortKey,
    /// Newest first when `true` (the default).
    pub descending: bool,
    /// Exact cwd matches; empty = any.
    pub cwds: Vec<PathBuf>,
    /// Case-insensitive substring of the name or the preview.
    pub search_term: Option<String>,
    /// Empty = any.
    pub model_providers: Vec<String>,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            archived: false,
            cursor: None,
            limit: None,
            sort_key: SortKey::CreatedAt,
            descending: true,
            cwds: Vec::new(),
            search_term: None,
            model_providers: Vec::new(),
        }
    }
}

/// One page of [`crate::Store::list`]; `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub data: Vec<ThreadRecord>,
    pub next_cursor: Option<String>,
}

/// What an index reconciliation (or rebuild) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReconcileStats {
    /// Rollout files found on disk. After the fast open (directory stamps), this counts the
    /// indexed files plus the unusable ones met in re-listed directories.
    pub files_seen: usize,
    /// Files read and (re-)indexed because they were new or their size/mtime changed.
    pub reindexed: usize,
    /// Index rows dropped because their file disappeared.
    pub removed: usize,
    /// Files ignored because they have no parsable `session_meta` first line.
    pub skipped: usize,
    /// Whether the index was rebuilt from scratch (missing, corrupt or old schema).
    pub rebuilt: bool,
    /// Directories whose stamp (mtime, inode) was checked.
    pub dirs_checked: usize,
    /// Directories listed because they were new, changed, or their recorded stamp could
    /// not prove them unchanged. A full reconciliation lists every directory.
    pub dirs_rescanned: usize,
    /// Rollout files whose size and mtime were read (`stat`).
    pub files_statted: usize,
}

/// State of the per-file pass that [`crate::Store::open`] starts on a background thread
/// after a fast open, to catch files changed in place by other processes (appends do not
/// change directory mtimes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackgroundReconcile {
    /// No pass was needed: the open itself stat'ed every file.
    NotStarted,
    Running,
    /// Finished; what it changed in the index.
    Finished(ReconcileStats),
    /// Stopped early: the store was dropped, or `reconcile` / `rebuild_index` superseded it.
    Cancelled,
    /// Stopped by an error (also logged); the index is as correct as before the pass.
    Failed(String),
}

/// A thread's turn lease: while it is unexpired, only `owner` may run a turn on the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub thread_id: String,
    pub owner: String,
    /// Unix milliseconds (the embedded store: this host's clock; PostgreSQL: the server's).
    pub expires_at_ms: i64,
    /// The thread's previous lease holder when that was another owner (its lease expired or
    /// was released): the thread may have been written by it since this owner last held the
    /// lease, so what this owner keeps in memory about the thread must be re-read.
    pub taken_over_from: Option<String>,
}

/// A page of a thread's rollout lines, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePage {
    pub lines: Vec<RolloutLine>,
    /// Position to pass as `from` for the next page; `None` after the last line.
    pub next: Option<u64>,
}
