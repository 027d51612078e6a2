//! Test modules, one per area of the protocol.

pub mod harness;
mod clients;
mod list_scale;
mod models;
mod review_fixes;
pub mod sockets;
mod store;
mod transport;
mod turns;
