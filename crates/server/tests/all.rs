//! The one integration-test binary of codex-server: black-box tests that spawn `codex
//! app-server` and speak JSON-RPC to it over stdio (see `suite/harness.rs`).

// The whole binary is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the harness and helper functions around them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
