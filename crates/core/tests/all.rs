//! The one integration-test binary of codex-core: tools, approvals and patches driven end to
//! end through `Runtime` against the mock model (see `suite/harness.rs`).

// The whole binary is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the harness and helper functions around them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
