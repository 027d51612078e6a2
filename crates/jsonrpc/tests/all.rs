//! The one integration-test binary of codex-jsonrpc: two connections talking over an
//! in-memory pipe, and raw bytes against one connection.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
