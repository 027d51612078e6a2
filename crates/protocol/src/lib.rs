//! Wire types of the Codex app-server protocol (v2), and nothing else.
//!
//! # Layout
//! - [`jsonrpc`]: the line-level envelopes (request, notification, response, error) and error codes.
//! - [`methods`]: the one method table. Every wire method name lives here; the server's dispatcher,
//!   the tests and the schema export read names from it, nobody retypes them.
//! - [`v2`]: params, responses, notifications and objects, grouped by resource.
//! - [`schema`]: JSON Schema export of every type, committed under `schema/` and drift-checked.
//!
//! Field rule: params are `Option<T>` with `#[serde(default)]` and are omitted when `None`;
//! responses and notifications always emit every field, `null` included, as the official runtime
//! does, so generated client models stay simple.

pub mod jsonrpc;
pub mod methods;
pub mod schema;
pub mod v2;

/// Version we report in `initialize`; the official SDK gates fields on it being >= 0.151.0.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Name we report in `serverInfo`.
pub const SERVER_NAME: &str = "codex-rs-lean";
