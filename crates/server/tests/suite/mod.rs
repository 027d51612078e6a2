//! Test modules, one per area of the protocol.

mod clients;
pub mod harness;
mod list_scale;
mod models;
mod review;
mod review_fixes;
pub mod sockets;
mod store;
mod store_sharing;
mod transport;
mod turns;
