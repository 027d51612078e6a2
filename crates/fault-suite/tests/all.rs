//! The fault suite: one test binary (see the crate README). Not run by `cargo test
//! --workspace`; `scripts/fault` runs it against the built binaries.
// Test code may panic on setup failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
