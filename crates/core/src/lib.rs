//! The agent core: configuration, threads, the turn loop, tools and approvals.
//!
//! # Layout
//! - [`config`]: core's names for the `codex-config` types (layers, `-c` overrides, settings).
//! - [`client`]: the channel to the connected client (notifications, server requests).
//! - [`runtime`]: the facade the server calls, one method per protocol operation.
//! - `thread`, `turn`, `compact`, `prompt`, `input`, `history`, `rollout`: the pieces a turn
//!   is made of, from request building to what is written to disk.
//! - `tools`: tool specs and dispatch.

pub mod client;
mod compact;
pub mod config;
mod error;
mod history;
mod input;
mod models;
mod prompt;
mod rollout;
pub mod runtime;
mod settings;
mod thread;
mod tools;
mod turn;

pub use error::CoreError;
pub use runtime::Runtime;
pub use turn::TurnLaunch;
