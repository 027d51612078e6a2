//! Single integration-test binary for `codex-exec`.
// Test helpers outside `#[test]` functions may panic on setup failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
