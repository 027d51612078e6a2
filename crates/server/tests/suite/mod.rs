//! Test modules, one per area of the protocol.

pub mod harness;
mod history;
mod list_scale;
mod models;
mod review_fixes;
mod store;
mod transport;
mod turns;
