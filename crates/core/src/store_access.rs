//! Every store call the core makes, and the only module that holds the thread store: one
//! `Arc<dyn ThreadStore>` chosen by `[thread_store]` (rollout files plus SQLite under
//! `$CODEX_HOME` by default, or PostgreSQL shared by a fleet of servers), with this server's
//! name in turn leases.
//!
//! The store opens in the background at start-up: `initialize` never waits for it, the first
//! call that needs it does. A store that could not be opened (a home that is not writable
//! yet, a database that is down) fails that call with a clear error and is tried again by
//! the next one; nothing is remembered as failed.

use crate::error::CoreError;
use codex_store::{
    Lease, ListPage, ListQuery, LoadedThread, NewThread, RolloutEntry, RolloutLine, ScanEnd,
    StoreError, ThreadRecord, ThreadStore, ThreadStoreConfig,
};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// How long rollout syncs wait to be batched with others.
const SYNC_BATCH_WINDOW: Duration = Duration::from_millis(20);

/// A cloneable handle on the thread store.
#[derive(Clone)]
pub struct StoreAccess {
    store: Arc<dyn ThreadStore>,
    /// This server in turn leases (`host/pid/start`), so a refusal names where a turn runs.
    owner: Arc<str>,
    lease_ttl: Duration,
    /// Threads whose rollout awaits an fsync, and whether a sync pass is scheduled.
    unsynced: Arc<Mutex<(HashSet<String>, bool)>>,
}

impl StoreAccess {
    /// The store `config` names (under `codex_home` when embedded), opening in the
    /// background.
    ///
    /// # Errors
    /// [`CoreError::Internal`] for a `[thread_store]` that names no usable store (PostgreSQL
    /// without a valid `url`): a configuration error, reported at start-up.
    pub fn open(config: &ThreadStoreConfig, codex_home: &Path) -> Result<StoreAccess, CoreError> {
        let owner = codex_store::default_lease_owner();
        let store = codex_store_pg::open_thread_store(config, codex_home, &owner)
            .map_err(|e| CoreError::Internal(format!("invalid [thread_store]: {e}")))?;
        let opening = store.clone();
        tokio::spawn(async move {
            if let Err(e) = opening.ready().await {
                tracing::error!(backend = opening.backend(), "thread store not ready: {e}");
            }
        });
        Ok(StoreAccess {
            store,
            owner: owner.into(),
            lease_ttl: config.lease_ttl(),
            unsynced: Arc::new(Mutex::new((HashSet::new(), false))),
        })
    }

    pub async fn create_thread(&self, new: NewThread) -> Result<ThreadRecord, CoreError> {
        self.store
            .create_thread(new)
            .await
            .map_err(CoreError::from_store)
    }

    pub async fn fork(&self, source_id: &str, new: NewThread) -> Result<ThreadRecord, CoreError> {
        self.store
            .fork(source_id, new)
            .await
            .map_err(CoreError::from_store)
    }

    /// A thread's record and every rollout line.
    pub async fn load(&self, id: &str) -> Result<LoadedThread, CoreError> {
        self.store.load(id).await.map_err(CoreError::from_store)
    }

    pub async fn get(&self, id: &str) -> Result<Option<ThreadRecord>, CoreError> {
        self.store.get(id).await.map_err(CoreError::from_store)
    }

    pub async fn list(&self, query: ListQuery) -> Result<ListPage, CoreError> {
        self.store.list(query).await.map_err(CoreError::from_store)
    }

    pub async fn archive(&self, id: &str) -> Result<ThreadRecord, CoreError> {
        self.store.archive(id).await.map_err(CoreError::from_store)
    }

    pub async fn unarchive(&self, id: &str) -> Result<ThreadRecord, CoreError> {
        self.store
            .unarchive(id)
            .await
            .map_err(CoreError::from_store)
    }

    pub async fn set_name(&self, id: &str, name: &str) -> Result<ThreadRecord, CoreError> {
        self.store
            .set_name(id, name)
            .await
            .map_err(CoreError::from_store)
    }

    /// Removes the thread for good: its lines and its index row.
    pub async fn delete(&self, id: &str) -> Result<(), CoreError> {
        self.store.delete(id).await.map_err(CoreError::from_store)
    }

    /// Feeds every complete line from position `from` on to `visit(state, position, next,
    /// line)`; hands `state` back with where the scan ended.
    pub async fn scan_lines<T: Send + 'static>(
        &self,
        id: &str,
        from: u64,
        state: T,
        visit: fn(&mut T, u64, u64, &[u8]),
    ) -> Result<(T, ScanEnd), CoreError> {
        // The store takes a 'static visitor; the state travels in a cell and comes back out.
        let cell = Arc::new(Mutex::new(Some(state)));
        let inside = cell.clone();
        let visitor = Box::new(move |pos: u64, next: u64, line: &[u8]| {
            if let Ok(mut slot) = inside.lock() {
                if let Some(state) = slot.as_mut() {
                    visit(state, pos, next, line);
                }
            }
        });
        let end = self
            .store
            .scan_lines(id, from, visitor)
            .await
            .map_err(CoreError::from_store)?;
        let state = cell
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .ok_or_else(|| CoreError::Internal("line scan lost its state".into()))?;
        Ok((state, end))
    }

    /// The parsable lines of each span of positions (from [`Self::scan_lines`]).
    pub async fn read_spans(
        &self,
        id: &str,
        spans: Vec<(u64, u64)>,
    ) -> Result<Vec<Vec<RolloutLine>>, CoreError> {
        self.store
            .read_spans(id, spans)
            .await
            .map_err(CoreError::from_store)
    }

    /// Appends a batch of rollout lines, in order: one write for the batch.
    pub async fn append(&self, id: &str, entries: Vec<RolloutEntry>) -> Result<(), CoreError> {
        self.store
            .append(id, entries)
            .await
            .map_err(CoreError::from_store)
    }

    /// Publishes the thread's coalesced listing metadata (updated time, preview) to other
    /// servers sharing the store; the end of a turn calls it before announcing the end.
    pub async fn flush(&self, id: &str) -> Result<(), CoreError> {
        self.store.flush(id).await.map_err(CoreError::from_store)
    }

    /// Takes (or renews) this server's turn lease on thread `id`. The raw store error, so
    /// the caller can tell a lease held elsewhere (`StoreError::Leased`) from the rest.
    pub async fn acquire_lease(&self, id: &str) -> Result<Lease, StoreError> {
        match self
            .store
            .acquire_lease(id, &self.owner, self.lease_ttl)
            .await
        {
            // A server of this host that died (kill -9, a crash) holds it: take it now rather
            // than at its expiry, so a restarted server goes on at once.
            Err(StoreError::Leased { owner, .. }) if codex_store::lease_owner_is_gone(&owner) => {
                tracing::info!(thread = %id, %owner, "taking over the lease of a server that is gone");
                self.store.release_lease(id, &owner).await?;
                self.store
                    .acquire_lease(id, &self.owner, self.lease_ttl)
                    .await
            }
            other => other,
        }
    }

    /// Ends this server's lease on thread `id`. A failure is only logged: the lease then
    /// ends by itself at its expiry.
    pub async fn release_lease(&self, id: &str) {
        if let Err(e) = self.store.release_lease(id, &self.owner).await {
            tracing::warn!(thread = %id, "releasing the turn lease failed (it expires on its own): {e}");
        }
    }

    /// How long a lease lasts without renewal.
    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// Durability of the thread's rollout against power loss (`fdatasync` for the embedded
    /// store), off the caller's path (tracked by `tasks`, so a shutdown waits for it). Lines
    /// are already written when this runs: it protects against power loss, not against a
    /// crash of the process. Requests made within a short window are served by one pass.
    pub fn sync_in_background(&self, tasks: &TaskTracker, id: &str) {
        let Ok(mut unsynced) = self.unsynced.lock() else {
            return;
        };
        unsynced.0.insert(id.to_string());
        if unsynced.1 {
            return;
        }
        unsynced.1 = true;
        let access = self.clone();
        tasks.spawn(async move {
            loop {
                tokio::time::sleep(SYNC_BATCH_WINDOW).await;
                let ids = match access.unsynced.lock() {
                    Ok(mut unsynced) if unsynced.0.is_empty() => {
                        unsynced.1 = false;
                        return;
                    }
                    Ok(mut unsynced) => std::mem::take(&mut unsynced.0),
                    Err(_) => return,
                };
                for id in &ids {
                    if let Err(e) = access.store.sync(id).await {
                        tracing::warn!(thread = %id, "rollout sync failed: {e}");
                    }
                }
            }
        });
    }
}
