//! Test modules, one per area of the protocol.

mod command_exec;
pub mod harness;
mod list_scale;
mod models;
pub mod procs;
mod review_fixes;
mod sessions;
mod shell_command;
mod store;
mod transport;
mod turns;
