//! `codex-store-pg`: the PostgreSQL `ThreadStore`, so that servers on several hosts share
//! threads (`[thread_store] backend = "postgres"`). Thread metadata, the listing index and
//! every rollout line live in the database; turn leases use the database's clock.
//!
//! Modules: `pool` (a small bounded connection pool with timeouts), `migrate` (versioned
//! schema, applied under an advisory lock so servers starting together migrate once),
//! `rows` (record and line decoding), `cursor` (keyset cursors), `store` (the trait's
//! operations). [`open_thread_store`] picks the backend from the configuration; it is the
//! one function the runtime calls.

mod cursor;
mod error;
mod migrate;
mod pool;
mod rows;
mod store;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use codex_store::{BackendKind, EmbeddedStore, StoreError, ThreadStore, ThreadStoreConfig};

pub use store::PgStore;

/// Connections per server when the configuration does not say.
pub const DEFAULT_POOL_SIZE: usize = 8;
/// Longest one database operation (including waiting for a connection) may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The configured thread store: the embedded one under `codex_home`, or PostgreSQL. Neither
/// touches the disk or the network here: they open on first use (or on `ready()`), and a
/// failed open is retried by the next call. `lease_owner` names this server in turn leases
/// (`codex_store::default_lease_owner()`); the PostgreSQL store refuses appends to a thread
/// another owner holds.
///
/// # Errors
/// `InvalidArgument` when `backend = "postgres"` has no usable `url`.
pub fn open_thread_store(
    config: &ThreadStoreConfig,
    codex_home: &Path,
    lease_owner: &str,
) -> Result<Arc<dyn ThreadStore>, StoreError> {
    match config.backend {
        BackendKind::Embedded => Ok(Arc::new(EmbeddedStore::new(codex_home))),
        BackendKind::Postgres => {
            let url = config.url.as_deref().ok_or_else(|| {
                StoreError::InvalidArgument(
                    "thread_store.url is required with backend = \"postgres\"".into(),
                )
            })?;
            let pool_size = config.pool_size.map_or(DEFAULT_POOL_SIZE, |n| {
                usize::try_from(n).unwrap_or(1).max(1)
            });
            let timeout = config
                .timeout_ms
                .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
            Ok(Arc::new(
                PgStore::new(url, pool_size, timeout)?.with_lease_owner(lease_owner),
            ))
        }
    }
}
