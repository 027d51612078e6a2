//! Errors of the connection layer, each named for what the caller does differently.

use codex_protocol::jsonrpc::JsonRpcErrorBody;
use thiserror::Error;

/// The connection is closed: nothing more can be sent or received on it.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("the connection is closed")]
pub struct Closed;

/// Why a request got no usable answer.
#[derive(Debug, Error)]
pub enum RequestError {
    /// The connection closed before the answer came.
    #[error("the connection closed before the request was answered")]
    Closed,
    /// The peer answered with a JSON-RPC error.
    #[error("the peer answered with error {}: {}", .0.code, .0.message)]
    Rejected(JsonRpcErrorBody),
    /// The answer did not have the shape the method promises.
    #[error("the answer could not be decoded: {0}")]
    Decode(#[source] serde_json::Error),
    /// The params could not be encoded.
    #[error("the params could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// No answer within the time the caller allowed (the request is then forgotten).
    #[error("no answer within {0:?}")]
    TimedOut(std::time::Duration),
}

impl From<Closed> for RequestError {
    fn from(_: Closed) -> Self {
        RequestError::Closed
    }
}
