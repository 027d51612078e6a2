//! Test modules.

mod framing;
mod requests;
