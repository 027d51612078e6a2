//! Why listeners could not be set up.

use std::path::PathBuf;
use thiserror::Error;

/// Why listeners could not be set up.
#[derive(Debug, Error)]
pub enum ListenError {
    #[error("unsupported --listen {0:?}: expected stdio://, unix://PATH or ws://HOST:PORT")]
    Unsupported(String),
    #[error("--listen {url}: {reason}")]
    BadAddress { url: String, reason: String },
    #[error(
        "--listen {0}: not a loopback address; pass --allow-non-loopback to accept connections \
         from other hosts"
    )]
    NotLoopback(String),
    #[error("stdio:// given twice")]
    StdioTwice,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("ws token file {path}: {reason}")]
    Token { path: PathBuf, reason: String },
}

impl ListenError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> ListenError {
        ListenError::Io {
            context: context.into(),
            source,
        }
    }
}
