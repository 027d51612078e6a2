//! The single integration-test binary of codex-config; scenarios live in `suite/`.

// Helpers outside #[test] functions unwrap too; a failed setup should just fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
