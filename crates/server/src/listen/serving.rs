//! Serving one accepted connection, and what the listeners share.

use crate::AppServer;
use codex_jsonrpc::Connection;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Serves one accepted connection until it ends; after a server stop, its close waits for the
/// running turns to have reported their end.
pub async fn serve_connection(
    server: Arc<AppServer>,
    connection: Connection,
    drained: CancellationToken,
) {
    let attached = server.serve(connection).await;
    if server.stop.is_cancelled() {
        drained.cancelled().await;
    }
    attached.close().await;
}

/// The directory a path lives in, for error messages and private temp names.
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
