//! Errors of the workspace operations. Every message names the path it is about and the cause,
//! so a client can show it as is.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum WorkspaceError {
    #[error("{}: path must be absolute", path.display())]
    NotAbsolute { path: PathBuf },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{}: the file is {size} bytes, over the {limit}-byte limit of fs/readFile",
        path.display()
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{}: is a directory", path.display())]
    IsDirectory { path: PathBuf },
    #[error("{}: is a directory; copying it needs `recursive: true`", path.display())]
    DirectoryNeedsRecursive { path: PathBuf },
    #[error("{}: cannot copy a directory into itself ({})", source_path.display(), destination.display())]
    CopyIntoItself {
        source_path: PathBuf,
        destination: PathBuf,
    },
    #[error("dataBase64 is not valid base64: {0}")]
    InvalidBase64(String),
    #[error("watch id `{0}` is already in use on this connection")]
    DuplicateWatch(String),
    #[error("unknown watch id `{0}`")]
    UnknownWatch(String),
    #[error("{}: cannot watch: {message}", path.display())]
    Watch { path: PathBuf, message: String },
    #[error("the operation stopped unexpectedly: {0}")]
    Internal(String),
}

impl WorkspaceError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        WorkspaceError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the request itself was malformed (JSON-RPC -32602) rather than refused by the
    /// file system (-32600).
    pub fn is_invalid_params(&self) -> bool {
        matches!(
            self,
            WorkspaceError::NotAbsolute { .. } | WorkspaceError::InvalidBase64(_)
        )
    }
}

/// Refuses relative paths: they would resolve against the server's cwd, which the client
/// neither sees nor controls.
pub(crate) fn require_absolute(path: &std::path::Path) -> Result<(), WorkspaceError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(WorkspaceError::NotAbsolute {
            path: path.to_path_buf(),
        })
    }
}
