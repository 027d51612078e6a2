//! The user's files as clients see them outside a turn.
//!
//! # Layout
//! - [`fs`]: the `fs/*` operations (read, write, create, metadata, list, remove, copy). Each is
//!   a plain function from the protocol's params to its response; [`fs::blocking`] runs one
//!   on the blocking pool, so a JSON-RPC handler is one call.
//! - [`watch`]: `fs/watch` / `fs/unwatch`: one registry per connection, change events
//!   coalesced into `fs/changed` notifications on a bounded channel.
//! - [`search`]: `fuzzyFileSearch`: a parallel walk that honours `.gitignore`, scored by
//!   `nucleo-matcher`, cancellable by token.
//! - [`skills`]: discovery of `SKILL.md` files, their front matter, the cache behind
//!   `skills/list`, a watcher behind `skills/changed`, and how skills are shown to the model.
//!
//! Errors are [`WorkspaceError`]; each names the path and the cause.

mod error;
mod frontmatter;
pub mod fs;
pub mod search;
pub mod skills;
pub mod watch;

pub use error::WorkspaceError;
