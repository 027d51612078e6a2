//! Integration tests for codex-store (single test binary; modules under `suite/`).
// Helper functions outside #[test] bodies panic on setup failure by design.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
