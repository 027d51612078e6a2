//! Errors of the MCP client, typed by what a caller does about them.

use std::time::Duration;

/// Why a server could not be used or a request to it failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum McpError {
    /// No server of that name is configured.
    #[error("unknown MCP server `{0}`")]
    UnknownServer(String),
    /// The server is configured with `enabled = false`.
    #[error("MCP server `{0}` is disabled")]
    Disabled(String),
    /// The server failed to start (the message says why) or is not running.
    #[error("MCP server `{server}` is not available: {message}")]
    Unavailable { server: String, message: String },
    /// No answer within the configured timeout.
    #[error("timed out awaiting {method} after {}s", seconds(*.timeout))]
    Timeout {
        method: &'static str,
        timeout: Duration,
    },
    /// The connection to the server broke (it exited or the stream closed); the server is
    /// restarted on next use.
    #[error("connection to MCP server `{server}` closed: {message}")]
    ConnectionClosed { server: String, message: String },
    /// The server answered with a JSON-RPC error, or the SDK rejected the exchange.
    #[error("{0}")]
    Protocol(String),
    /// The caller cancelled the request.
    #[error("MCP request cancelled")]
    Cancelled,
}

/// A duration in seconds the way people write them: `1.5`, `60`.
pub(crate) fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        d.as_secs().to_string()
    } else {
        secs.to_string()
    }
}
