//! The agent core: threads, the turn loop, tools and approvals. The server (or any embedder)
//! drives it through [`Runtime`] and receives its notifications and server requests through a
//! [`ClientSink`] it implements; the core never sees a connection.
//!
//! # Layout, from the top of the chain down (a module uses only modules below it)
//! - [`runtime`]: [`Runtime`], one method per protocol operation, by area
//!   (`runtime/threads.rs`, `turns.rs`, `models.rs`, `account.rs`, `config.rs`, `files.rs`,
//!   `skills.rs`).
//! - `turn`: the turn loop, in a narrow [`turn::TurnEnv`], never the whole runtime.
//! - `thread`, `loaded`: a loaded thread (state, status, tools) and the bounded table of them.
//! - [`tools`]: the [`tools::Tool`] trait, the per-thread registry, the built-in tools.
//! - Shared leaves: [`sink`] (the typed client channel), [`reply`] (answering a request
//!   before doing what follows it), [`identity`] (who asks), `store_access` (every store call,
//!   on the blocking pool), `settings` (per-thread settings and the one request overlay),
//!   `requirements` (what a request may ask for), `skills` (skills for the prompt and
//!   `skills/changed`), `prompt`, `history`, `rollout`, `input`, `list`, `status`, `clock`,
//!   `review` (review targets, prompts and findings),
//!   `rollback` (revert markers), `turn_index` (a rollout indexed by turn, for paging),
//!   `page_cursor`, `checkpoint` (file snapshots for revert), `injected`,
//!   [`config`] (core's names for the `codex-config` types), [`error`].
//!
//! # Where to add things
//! - A protocol method: an operation in `runtime/<area>.rs` (it returns its result, or takes a
//!   [`Reply`] when something must follow the answer), then a handler in the server.
//! - A tool: implement [`tools::Tool`]; built-ins go in `tools::builtin_tools`, tools that come
//!   and go (MCP, client-defined) are registered on a thread's [`tools::ToolRegistry`].
//! - A model provider: configuration (`model_providers.<id>` in `config.toml`), resolved by
//!   [`config::Settings::provider`]; the wire client lives in `codex-model`.

mod checkpoint;
mod clock;
pub mod config;
pub mod error;
mod history;
pub mod identity;
mod injected;
mod input;
mod list;
mod loaded;
mod page_cursor;
mod prompt;
pub mod reply;
mod requirements;
mod review;
mod rollback;
mod rollout;
pub mod runtime;
mod settings;
pub mod sink;
mod skills;
mod status;
mod store_access;
mod thread;
pub mod tools;
mod turn;
mod turn_index;

pub use error::CoreError;
pub use identity::{Caller, ClientIdentity};
pub use reply::Reply;
pub use runtime::{Runtime, RuntimeOptions};
pub use sink::{ClientSink, Origin, PendingReply, Route, Sink};
