//! `codex-store`: the durable thread store. Rollout files under `$CODEX_HOME/sessions`
//! (JSONL, compatible with the official binary) are the source of truth; a SQLite index
//! (`state_index.sqlite`) answers lookups and paginated listings and is reconciled with
//! the files on every open (directories first, then every file in the background).
//!
//! For the runtime: use the async, object-safe [`ThreadStore`] trait (`thread_store.rs`),
//! implemented here by [`EmbeddedStore`] (`embedded.rs`: lazy open that retries, work on the
//! blocking pool) and by `codex_store_pg::PgStore`; `codex_store_pg::open_thread_store` picks
//! one from [`ThreadStoreConfig`] (`config.rs`, the `[thread_store]` table). The synchronous
//! [`Store`] underneath:
//! - `store.rs` opens (via `schema.rs`: safe for several processes at once), looks up, lists;
//!   `write.rs` creates, forks, appends (index updates coalesced in `pending.rs`), syncs;
//!   `lifecycle.rs` loads, pages lines, names, archives, deletes; `lease.rs` turn leases;
//!   `spans.rs` scans and reads by byte position (for callers that index a rollout).
//! - The index: `index.rs` (rows, names, keyset `list` with `cursor.rs`), `index_paths.rs`,
//!   `dir_index.rs` (directory stamps), `meta.rs` (facts about the index).
//! - Reconciliation with the files: `reconcile.rs` (full), `incremental.rs` (directory
//!   stamps), `background.rs` (per-file pass after open), `settle.rs`, `walk.rs`.
//! - Rollout format: `layout.rs` (paths, names), `line.rs`, `summary.rs` (what the index
//!   derives from lines), `session_index.rs` (the shared name log).
//!
//! A new store operation goes on the trait, then on both backends, with a check in
//! `conformance.rs` (feature `conformance`) that both backends' tests run.

mod background;
mod config;
#[cfg(feature = "conformance")]
pub mod conformance;
mod cursor;
mod dir_index;
mod embedded;
mod error;
mod handles;
mod incremental;
mod index;
mod index_paths;
mod layout;
mod lease;
mod lifecycle;
mod line;
mod meta;
mod pending;
mod reconcile;
mod schema;
mod session_index;
mod settle;
mod spans;
mod store;
mod summary;
mod thread_store;
mod types;
mod walk;
mod write;

pub use config::{BackendKind, ThreadStoreConfig, DEFAULT_LEASE_TTL, MIN_LEASE_TTL};
pub use embedded::EmbeddedStore;
pub use error::StoreError;
pub use layout::format_timestamp;
pub use spans::ScanEnd;
pub use store::Store;
pub use summary::{digest_entries, EntryDigest};
pub use thread_store::{
    default_lease_owner, lease_owner_is_gone, LineVisitor, StoreFuture, ThreadStore,
};
pub use types::{
    BackgroundReconcile, Lease, LinePage, ListPage, ListQuery, LoadedThread, NewThread,
    ReconcileStats, RolloutEntry, RolloutLine, SkippedLine, SortKey, ThreadRecord,
};
pub use write::session_meta_payload;

#[cfg(test)]
mod tests {
    #[test]
    fn store_is_clone_send_sync() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<crate::Store>();
    }

    #[test]
    fn thread_store_is_object_safe() {
        fn check<T: Send + Sync + 'static>() {}
        check::<std::sync::Arc<dyn crate::ThreadStore>>();
    }
}
