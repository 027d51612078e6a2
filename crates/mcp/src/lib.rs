//! MCP client of the Codex runtime: connections to the configured MCP servers, the tools they
//! give the model, calls with approvals, resources, and the client API methods.
//!
//! # Layout
//! - [`config`]: `[mcp_servers.NAME]` tables and `mcp_optional_startup_grace_ms`.
//! - [`manager`]: [`McpManager`], one per thread: background start-up, status updates,
//!   `wait_ready`, crash restart, reload.
//! - [`tools`]: [`McpTools`], what one model request advertises, and call resolution.
//! - [`call`]: one model call: approval, `tools/call`, the item and the model output.
//! - [`approval`]: the official approval rules and the elicitation request that asks.
//! - [`elicitation`]: server-sent elicitations, forwarded through [`ElicitationHandler`].
//! - `api`: `mcpServerStatus/list`, `mcpServer/tool/call`, `mcpServer/resource/read` on a
//!   manager.
//! - [`names`], [`schema`]: model-facing names and input schemas.
//! - private: `connection` (one rmcp session), `handler` (rmcp client callbacks), `spawn`
//!   (stdio child processes), `http` (streamable-HTTP transport), `resources` (resource tools).
//!
//! The protocol itself is rmcp's; this crate decides what to start, when, and what the model
//! and the client see of it.

mod api;
pub mod approval;
pub mod call;
pub mod config;
mod connection;
pub mod elicitation;
pub mod error;
mod handler;
mod http;
pub mod manager;
pub mod names;
mod resources;
pub mod schema;
mod spawn;
pub mod tools;

pub use call::{ApprovalAsker, CallContext, McpCall, McpCallOutcome};
pub use config::{McpConfig, McpServerConfig, McpTransport, ToolApprovalMode};
pub use connection::CallResult;
pub use elicitation::{DeclineElicitations, ElicitationHandler, ServerElicitation};
pub use error::McpError;
pub use handler::CLIENT_NAME;
pub use manager::{McpManager, McpStartupUpdate};
pub use spawn::DEFAULT_ENV_VARS;
pub use tools::{McpCallTarget, McpTools, ResourceTool};
