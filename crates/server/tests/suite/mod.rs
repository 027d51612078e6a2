//! Test modules, one per area of the protocol.

mod client_tools;
mod clients;
mod command_exec;
mod config;
mod fs;
pub mod harness;
mod history;
mod list_scale;
mod mcp;
mod models;
pub mod procs;
mod review;
mod review_fixes;
mod search;
mod sessions;
mod shell_command;
mod skills;
pub mod sockets;
mod store;
mod store_sharing;
mod transport;
mod turns;
