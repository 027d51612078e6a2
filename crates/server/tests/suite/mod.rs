//! Test modules, one per area of the protocol.

mod client_tools;
pub mod harness;
mod list_scale;
mod mcp;
mod models;
mod review_fixes;
mod store;
mod transport;
mod turns;
