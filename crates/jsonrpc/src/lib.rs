//! `codex-jsonrpc`: the JSON-RPC connection layer, used by the server for each client and by
//! anything that drives a server (`codex exec`, tests, a Rust SDK). It knows messages and
//! frames, not methods: what a request means is the caller's business.
//!
//! # Layout
//! - [`frame`]: [`Frame`], one encoded message. Encoded once, shared by `Arc`, so one
//!   notification can be written to many connections without being encoded again.
//! - [`lines`]: the bounded NDJSON line reader. A line over the limit is consumed without
//!   being buffered; its first bytes are kept so the error can name the request id.
//! - [`inspect`]: cheap looks into raw bytes: the request id at the start of a line, and the
//!   JSON nesting depth of a line the parser refused.
//! - [`peer`]: [`Peer`], the sending half: the bounded outgoing queue, request id allocation
//!   and the table of requests awaiting a reply. Side-neutral: a server sends notifications
//!   and server requests through it, a client sends its requests the same way.
//! - [`connection`]: [`Connection::spawn`] wires a byte stream to a reader task and a writer
//!   task and hands back the [`Peer`] and the stream of [`Incoming`] requests and
//!   notifications. Transports: [`Connection::stdio`], any `AsyncRead`/`AsyncWrite` pair, and
//!   [`memory_pair`] for in-process use.
//! - [`framed`]: message-framed transports (one message per WebSocket frame): the same
//!   handling of each message, with the transport's own reader and writer tasks.
//! - [`error`]: the errors callers branch on.
//!
//! Adding a transport (a unix socket, a WebSocket): turn it into a reader and a writer of
//! bytes, or, for message-framed transports, use [`framed()`]; nothing else changes.

pub mod connection;
pub mod error;
pub mod frame;
pub mod framed;
pub mod inspect;
pub mod lines;
pub mod peer;
mod writer;

pub use connection::{memory_pair, Closing, Connection, Incoming, Limits, MemoryStream};
pub use error::{Closed, RequestError};
pub use frame::Frame;
pub use framed::{framed, FramedInput};
pub use peer::{Outbox, Peer, PendingRequest, Reply};
