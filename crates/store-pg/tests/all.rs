//! Integration tests of codex-store-pg against a real PostgreSQL: run them through
//! `scripts/with-postgres cargo test -p codex-store-pg`, which starts one and sets
//! `CODEX_TEST_PG_URL`. Without it they fail (they never pass without checking anything).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod suite;
