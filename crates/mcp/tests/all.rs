//! The one integration-test binary of codex-mcp: the library against real third-party MCP
//! servers (`scripts/install-mcp-test-servers` installs them; a missing one fails the tests).

// Helpers outside #[test] functions unwrap too; a failed setup should just fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
