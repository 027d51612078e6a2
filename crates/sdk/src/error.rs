//! The SDK's errors, one variant per thing a caller does differently: find or fix the binary
//! ([`Error::BinaryNotFound`], [`Error::Spawn`]), give up on a dead server
//! ([`Error::TransportClosed`], carrying the server's last stderr lines), branch on a JSON-RPC
//! error code ([`Error::Rpc`]), report a failed turn ([`Error::TurnFailed`]), retry or wait
//! longer ([`Error::Timeout`]).

use codex_protocol::jsonrpc::{error_codes, JsonRpcErrorBody};
use codex_protocol::v2::TurnError;
use serde_json::Value;
use std::fmt;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Every error the SDK returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No usable `codex` binary was found; `tried` lists every place searched, in order.
    #[error("could not find the codex binary (set CodexConfig::codex_bin or CODEX_BIN); tried: {}", .tried.join("; "))]
    BinaryNotFound {
        /// Each place, with why it did not qualify.
        tried: Vec<String>,
    },
    /// The binary exists but could not be started.
    #[error("could not start {}: {source}", .program.display())]
    Spawn {
        /// The program that did not start.
        program: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The connection to the app-server is gone (process exited, pipe closed, client closed).
    #[error(transparent)]
    TransportClosed(#[from] TransportClosed),
    /// The server answered a request with a JSON-RPC error.
    #[error(transparent)]
    Rpc(#[from] RpcError),
    /// A turn ended with status `failed`; `message` is the server's error text, `error` the
    /// turn's whole error (with its machine-readable `codexErrorInfo`).
    #[error("turn {turn_id} failed: {message}")]
    TurnFailed {
        /// The failed turn.
        turn_id: String,
        /// The server's message (never empty).
        message: String,
        /// The turn's error as the server reported it.
        error: Option<Box<TurnError>>,
    },
    /// A turn's notifications ended before its `turn/completed`.
    #[error("turn {turn_id} ended without turn/completed")]
    TurnIncomplete {
        /// The turn whose end never came.
        turn_id: String,
    },
    /// A request or a turn's stream waited longer than its bound.
    #[error("{what} timed out after {after:?}")]
    Timeout {
        /// What was waited for.
        what: String,
        /// The bound that ran out.
        after: Duration,
    },
    /// A turn's consumer fell so far behind that its buffer filled; the rest of the turn was
    /// dropped rather than stall every other request on the connection.
    #[error("turn {turn_id}: more than {capacity} notifications were left unread")]
    Lagged {
        /// The turn whose stream was cut off.
        turn_id: String,
        /// The buffer it filled ([`crate::CodexConfig::turn_buffer`]).
        capacity: usize,
    },
    /// [`crate::TurnHandle::stream`] was called a second time for the same turn handle.
    #[error("turn {turn_id} is already being streamed")]
    AlreadyStreamed {
        /// The turn.
        turn_id: String,
    },
    /// A response did not have the shape its method promises.
    #[error("{method} returned an unexpected result: {source}")]
    Decode {
        /// The method whose answer did not decode.
        method: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// Request params could not be encoded as JSON.
    #[error("could not encode the params of {method}: {source}")]
    Encode {
        /// The method whose params did not encode.
        method: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The server broke the protocol in a way no request can recover from (an unusable
    /// `initialize` answer, a `turn/completed` that does not decode).
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A client-defined tool is unusable (bad name, two tools with one name).
    #[error("invalid tool {name:?}: {reason}")]
    InvalidTool {
        /// The tool's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The blocking facade could not build its runtime.
    #[error("could not start the blocking runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The in-process runtime could not start (bad configuration, no CODEX_HOME).
    #[cfg(feature = "embedded")]
    #[error("could not start the embedded runtime: {0}")]
    Embedded(String),
}

/// Result alias for the SDK.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the connection is gone, with what the server printed last.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportClosed {
    /// What happened, e.g. "the Codex app-server closed its output".
    pub message: String,
    /// The server's last stderr lines (empty for a connection without a process).
    pub stderr_tail: String,
    /// The server process's exit status, when it exited within a short wait.
    pub exit_status: Option<ExitStatus>,
}

impl TransportClosed {
    pub(crate) fn new(message: impl Into<String>) -> TransportClosed {
        TransportClosed {
            message: message.into(),
            stderr_tail: String::new(),
            exit_status: None,
        }
    }
}

impl fmt::Display for TransportClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(status) = self.exit_status {
            write!(f, " ({status})")?;
        }
        if !self.stderr_tail.is_empty() {
            write!(f, "\nstderr tail:\n{}", self.stderr_tail)?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportClosed {}

/// A JSON-RPC error answer: branch on [`RpcError::code`] (constants in
/// [`codex_protocol::jsonrpc::error_codes`]), never on the message text.
#[derive(Clone, Debug, PartialEq)]
pub struct RpcError {
    /// The JSON-RPC error code.
    pub code: i64,
    /// The server's message.
    pub message: String,
    /// Extra machine-readable detail, when the server sent some.
    pub data: Option<Value>,
}

impl RpcError {
    /// -32601: the server does not know the method.
    pub fn is_method_not_found(&self) -> bool {
        self.code == error_codes::METHOD_NOT_FOUND
    }

    /// -32600 or -32602: the request was refused as invalid (the official server uses -32600
    /// for nearly every refusal, ours -32602 for bad params).
    pub fn is_invalid_request(&self) -> bool {
        self.code == error_codes::INVALID_REQUEST || self.code == error_codes::INVALID_PARAMS
    }

    /// -32001: the server is overloaded; the call may be retried later.
    pub fn is_overloaded(&self) -> bool {
        self.code == error_codes::SERVER_OVERLOADED
    }
}

impl From<JsonRpcErrorBody> for RpcError {
    fn from(body: JsonRpcErrorBody) -> Self {
        RpcError {
            code: body.code,
            message: body.message,
            data: body.data,
        }
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JSON-RPC error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

impl Error {
    /// The JSON-RPC error, when this is one.
    pub fn rpc(&self) -> Option<&RpcError> {
        match self {
            Error::Rpc(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_closed_shows_the_stderr_tail() {
        let closed = TransportClosed {
            message: "the Codex app-server closed its output".into(),
            stderr_tail: "boom\nbang".into(),
            exit_status: None,
        };
        assert_eq!(
            Error::from(closed).to_string(),
            "the Codex app-server closed its output\nstderr tail:\nboom\nbang"
        );
    }

    #[test]
    fn rpc_errors_classify_by_code() {
        let e = RpcError::from(JsonRpcErrorBody::method_not_found("x/y"));
        assert!(e.is_method_not_found() && !e.is_invalid_request());
        assert_eq!(
            e.to_string(),
            "JSON-RPC error -32601: method not found: x/y"
        );
        assert!(RpcError::from(JsonRpcErrorBody::invalid_params("bad")).is_invalid_request());
    }
}
