//! Integration tests of codex-workspace: real files in temporary directories.
// Helper functions outside #[test] bodies panic on setup failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
