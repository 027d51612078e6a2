//! `codex-sdk`: drive the Codex agent runtime (`codex app-server`, JSON-RPC v2) from Rust.
//! The same shape as the Python SDK `openai_codex`: a [`Codex`] client, [`Thread`]s, turns
//! with a [`TurnHandle`] to stream, run, steer or interrupt, a [`TurnResult`] built by the
//! same rules.
//!
//! ```no_run
//! use codex_sdk::{Codex, CodexConfig, ThreadOptions};
//!
//! # async fn demo() -> codex_sdk::Result<()> {
//! let codex = Codex::launch(CodexConfig::default()).await?;
//! let thread = codex.thread_start(ThreadOptions::default()).await?;
//! let result = thread.run("Summarise this repository.").await?;
//! println!("{:?} {:?}", result.final_response, result.usage);
//! codex.close().await;
//! # Ok(()) }
//! ```
//!
//! [`blocking::Codex`] is the same client for code without an async runtime. With the cargo
//! feature `embedded`, [`Codex::embedded`] runs the runtime inside the process instead of
//! launching the binary.
//!
//! # Layout
//! - [`codex`]: [`Codex`]: launch or connect, handshake, thread lifecycle, `model/list`, and
//!   [`Codex::request`] for any method of the protocol's table.
//! - [`thread`], [`turn`]: [`Thread`], [`TurnHandle`], [`TurnStream`].
//! - `collector`: [`TurnResult`] and the rules that build it ([`TurnCollector`]).
//! - [`options`]: [`ThreadOptions`], [`TurnOptions`], [`ApprovalMode`], [`Input`].
//! - [`approvals`]: [`ApprovalHandler`] (async, may defer) and [`approval_queue`].
//! - [`tools`]: client-defined tools as closures ([`Tool`]).
//! - [`config`]: [`CodexConfig`]; `discovery` finds the binary; `process` owns the child.
//! - `connection`: the connection's tasks, requests with timeouts, how it ends; `router`
//!   routes notifications to turn streams; `server_requests` answers the server's requests;
//!   `handshake` reads `initialize`.
//! - [`notification`]: [`Notification`], typed or raw.
//! - [`error`]: [`Error`], [`RpcError`], [`TransportClosed`].
//!
//! The wire types are `codex-protocol`'s, re-exported as [`protocol`].

#![warn(missing_docs)]

pub mod approvals;
pub mod blocking;
pub mod codex;
mod collector;
pub mod config;
mod connection;
mod discovery;
#[cfg(feature = "embedded")]
mod embedded;
pub mod error;
mod handshake;
pub mod notification;
pub mod options;
mod process;
mod router;
mod server_requests;
pub mod thread;
pub mod tools;
pub mod turn;

pub use approvals::{
    approval_queue, ApprovalHandler, ApprovalQueue, ApprovalRequest, BoxFuture, PendingApproval,
    QueuedApprovals,
};
pub use codex::Codex;
pub use codex_protocol as protocol;
pub use codex_protocol::v2::ApprovalDecision;
pub use collector::{final_response, TurnCollector, TurnResult};
pub use config::CodexConfig;
pub use error::{Error, Result, RpcError, TransportClosed};
pub use handshake::Metadata;
pub use notification::{Notification, UnknownNotification};
pub use options::{ApprovalMode, Input, ThreadOptions, TurnOptions};
/// The schema derive for [`Tool::typed`] argument types
/// (`#[schemars(crate = "codex_sdk::schemars")]` when `schemars` is not a direct dependency).
pub use schemars;
pub use thread::Thread;
pub use tools::{IntoToolOutput, Tool, ToolCall, ToolContent, ToolOutput};
pub use turn::{TurnHandle, TurnStream};
