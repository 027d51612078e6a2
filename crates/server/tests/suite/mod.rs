//! Test modules, one per area of the protocol.

pub mod harness;
mod list_scale;
mod models;
mod review;
mod review_fixes;
mod store;
mod store_sharing;
mod transport;
mod turns;
