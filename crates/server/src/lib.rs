//! The app-server: reads JSON-RPC lines from stdin, dispatches them to the core, and writes
//! responses and notifications to stdout through one writer task.
//!
//! # Layout
//! - `transport`: line framing with a length limit, the stdout writer task.
//! - `dispatch`: connection state (handshake), method routing, error mapping.
//! - `handlers`: one function per method, thin glue over `codex_core::Runtime`.

mod dispatch;
mod handlers;
mod transport;

use codex_core::client::ClientHandle;
use codex_core::config::Config;
use codex_core::Runtime;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Core(#[from] codex_core::CoreError),
    #[error("stdio: {0}")]
    Io(#[from] std::io::Error),
}

/// Default longest accepted input line (bytes); `app_server.max_line_bytes` in config overrides.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Serves one client over stdin/stdout until stdin closes; flushes pending output and returns.
pub async fn serve_stdio(config: Config) -> Result<(), ServerError> {
    let max_line = config
        .raw
        .get("app_server")
        .and_then(|t| t.get("max_line_bytes"))
        .and_then(|v| v.as_integer())
        .map(|n| n.max(1024) as usize)
        .unwrap_or(DEFAULT_MAX_LINE_BYTES);
    let (client, lines) = ClientHandle::new();
    let runtime = Runtime::new(config, client.clone())?;
    // tokio's stdout hands every write to a blocking thread; buffering turns a burst of
    // notifications (a streamed answer) into one write, flushed when the queue runs dry.
    let stdout = tokio::io::BufWriter::with_capacity(64 * 1024, tokio::io::stdout());
    let writer = tokio::spawn(transport::write_lines(stdout, lines));
    let result = transport::read_loop(
        tokio::io::stdin(),
        max_line,
        dispatch::Connection::new(runtime.clone()),
    )
    .await;
    runtime.shutdown().await;
    // Dropping the last senders ends the writer after it has flushed everything queued.
    drop(runtime);
    drop(client);
    let _ = writer.await;
    result
}
