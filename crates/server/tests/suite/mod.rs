//! Test modules, one per area of the protocol.

mod clients;
pub mod harness;
mod list_scale;
mod models;
mod review_fixes;
pub mod sockets;
mod store;
mod transport;
mod turns;
