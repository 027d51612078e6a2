//! The one integration-test binary of codex-sdk (scenarios in `suite/`).

// The whole binary is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the harness and helper functions around them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
