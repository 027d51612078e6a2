//! The unix socket listener. The socket is bound inside a fresh private directory (0700), made
//! 0600, then renamed into place, so it is never reachable by others, not even for an instant.
//! A stale socket left by a server that died is replaced; a live one is refused. The socket
//! is removed when the server stops ([`SocketGuard`]).
//!
//! Connections speak NDJSON, one JSON-RPC message per line, exactly as stdio does.

use super::error::ListenError;
use super::serving::{parent_of, serve_connection};
use crate::AppServer;
use codex_jsonrpc::Connection;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::UnixListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A bound socket and the guard that removes it.
pub struct Bound {
    pub listener: UnixListener,
    pub guard: SocketGuard,
}

/// Removes the socket file when dropped.
pub struct SocketGuard(PathBuf);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Binds `path` privately (see the module comment).
pub fn bind(path: &Path) -> Result<Bound, ListenError> {
    let shown = path.display().to_string();
    let dir = parent_of(path);
    std::fs::create_dir_all(dir)
        .map_err(|e| ListenError::io(format!("creating {}", dir.display()), e))?;
    refuse_live_socket(path)?;
    let private = dir.join(format!(
        ".codex-sock-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .map_err(|e| ListenError::io(format!("creating {}", private.display()), e))?;
    let staged = private.join("s");
    let bound = (|| {
        let listener = UnixListener::bind(&staged)
            .map_err(|e| ListenError::io(format!("binding unix://{shown}"), e))?;
        std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| ListenError::io(format!("restricting unix://{shown}"), e))?;
        std::fs::rename(&staged, path)
            .map_err(|e| ListenError::io(format!("placing unix://{shown}"), e))?;
        Ok(listener)
    })();
    let _ = std::fs::remove_file(&staged);
    let _ = std::fs::remove_dir(&private);
    Ok(Bound {
        listener: bound?,
        guard: SocketGuard(path.to_path_buf()),
    })
}

/// A socket file at `path` that a server still answers on is refused; a stale one is left to
/// be replaced; anything else there is refused.
fn refuse_live_socket(path: &Path) -> Result<(), ListenError> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ListenError::io(format!("checking {shown}"), e)),
        Ok(meta) if !meta.file_type().is_socket() => Err(ListenError::io(
            format!("unix://{shown}"),
            std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file that is not a socket is in the way",
            ),
        )),
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => Err(ListenError::io(
                format!("unix://{shown}"),
                std::io::Error::new(
                    std::io::ErrorKind::AddrInUse,
                    "another server is listening there",
                ),
            )),
            Err(_) => Ok(()),
        },
    }
}

/// Accepts connections until aborted; each is served in a task of `connections`.
pub async fn accept_loop(
    listener: UnixListener,
    server: Arc<AppServer>,
    connections: TaskTracker,
    drained: CancellationToken,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let connection = Connection::stream(stream, server.limits());
                connections.spawn(serve_connection(
                    server.clone(),
                    connection,
                    drained.clone(),
                ));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a moment instead of spinning.
                tracing::warn!("accepting a unix connection failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}
