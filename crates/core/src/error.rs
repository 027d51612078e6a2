//! Errors of the core facade, each named for what the server answers differently.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CoreError {
    #[error("thread not found: {0}")]
    ThreadNotFound(String),
    /// The request is well-formed but not acceptable now (no active turn, mismatched id, ...).
    #[error("{0}")]
    InvalidRequest(String),
    /// A parameter value is wrong; the message names the field.
    #[error("{0}")]
    InvalidParams(String),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A `config/*` operation failed; it knows its own JSON-RPC answer.
    #[error(transparent)]
    ConfigService(#[from] crate::config::ConfigServiceError),
    #[error(transparent)]
    Store(#[from] codex_store::StoreError),
    #[error("{0}")]
    Internal(String),
}

impl CoreError {
    pub fn from_store(err: codex_store::StoreError) -> Self {
        match err {
            codex_store::StoreError::NotFound(id) => CoreError::ThreadNotFound(id),
            codex_store::StoreError::InvalidCursor(c) => {
                CoreError::InvalidParams(format!("invalid cursor: {c}"))
            }
            // Another server runs a turn on the thread: the request is fine, just not now.
            leased @ codex_store::StoreError::Leased { .. } => {
                CoreError::InvalidRequest(leased.to_string())
            }
            other => CoreError::Store(other),
        }
    }
}
