//! The store's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the thread store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No thread with this id is known to the index.
    #[error("thread not found: {0}")]
    NotFound(String),
    /// A thread with this id already exists (create/fork with a reused id).
    #[error("thread already exists: {0}")]
    AlreadyExists(String),
    /// A list cursor that this store did not produce (or produced for another sort key).
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// A caller-supplied value the store cannot use (e.g. a thread id with a path separator).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A filesystem operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The SQLite index failed.
    #[error("index error: {0}")]
    Index(#[from] rusqlite::Error),
    /// A rollout file (or the index) holds data the store cannot interpret.
    #[error("corrupt {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// A payload could not be serialized to JSON.
    #[error("serialization failed: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The store could not be opened or reached (yet); the next call tries again.
    #[error("thread store unavailable: {0}")]
    Unavailable(String),
    /// Another server owns the thread's turn lease until it expires.
    #[error("thread {thread_id} has a running turn owned by {owner} (lease expires at {expires_at_ms} ms since the epoch)")]
    Leased {
        thread_id: String,
        owner: String,
        expires_at_ms: i64,
    },
    /// A database backend other than the embedded index failed.
    #[error("{context}: {source}")]
    Backend {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Wraps an I/O error with a short description of what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Adds `.ctx("…")` to `io::Result` so call sites stay one line.
pub(crate) trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::io(context(), e))
    }
}
