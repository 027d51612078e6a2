//! Test modules, one per area of the protocol.

pub mod harness;
mod models;
mod store;
mod transport;
mod turns;
