//! One integration-test binary for the `codex` CLI: it spawns the built binary
//! (`CARGO_BIN_EXE_codex`) against the in-process scripted mock model.

// The whole binary is test code, but clippy's `allow-*-in-tests` only covers `#[test]`
// functions, not the harness and helper functions around them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
