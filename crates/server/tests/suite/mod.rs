//! Test modules, one per area of the protocol.

mod client_tools;
mod clients;
mod command_exec;
pub mod harness;
mod history;
mod list_scale;
mod mcp;
mod models;
pub mod procs;
mod review;
mod review_fixes;
mod sessions;
mod shell_command;
pub mod sockets;
mod store;
mod store_sharing;
mod transport;
mod turns;
