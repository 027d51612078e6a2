//! `codex-store`: the durable thread store. Rollout files under `$CODEX_HOME/sessions`
//! (JSONL, compatible with the official binary) are the source of truth; a SQLite index
//! (`state_index.sqlite`) answers lookups and paginated listings and is reconciled with
//! the files on every open (directories first, then every file in the background).

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
mod store;
mod summary;
mod thread_store;
mod types;
mod walk;
mod write;

pub use config::{BackendKind, ThreadStoreConfig};
pub use embedded::EmbeddedStore;
pub use error::StoreError;
pub use layout::format_timestamp;
pub use store::Store;
pub use summary::{digest_entries, EntryDigest};
pub use thread_store::{default_lease_owner, StoreFuture, ThreadStore};
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
