//! Test modules, one per area of the protocol.

mod config;
mod fs;
pub mod harness;
mod list_scale;
mod models;
mod review_fixes;
mod search;
mod skills;
mod store;
mod transport;
mod turns;
