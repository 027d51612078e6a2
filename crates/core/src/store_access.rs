//! Every store call the core makes, and the only module that touches `codex_store::Store`.
//! The store is synchronous (files and SQLite), so each call runs on tokio's blocking pool and
//! the async workers never wait on disk. The store opens in the background: `initialize` never
//! waits for an index build; the first call that needs the store waits for it.
//!
//! When the store becomes an async `ThreadStore` trait, this module's bodies change and its
//! callers do not.

use crate::error::CoreError;
use codex_store::{
    ListPage, ListQuery, LoadedThread, NewThread, RolloutEntry, RolloutLine, ScanEnd, Store,
    StoreError, ThreadRecord,
};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

/// How long rollout syncs wait to be batched with others.
const SYNC_BATCH_WINDOW: Duration = Duration::from_millis(20);

/// A cloneable handle on the thread store.
#[derive(Clone)]
pub struct StoreAccess {
    opened: Arc<OnceLock<Result<Store, String>>>,
    ready: watch::Receiver<bool>,
    /// Threads whose rollout awaits an fsync, and whether a sync pass is scheduled.
    unsynced: Arc<Mutex<(HashSet<String>, bool)>>,
}

impl StoreAccess {
    /// Starts opening the store under `codex_home` on the blocking pool.
    pub fn open_in_background(codex_home: PathBuf) -> StoreAccess {
        let opened: Arc<OnceLock<Result<Store, String>>> = Arc::new(OnceLock::new());
        let (ready_tx, ready) = watch::channel(false);
        let cell = opened.clone();
        tokio::task::spawn_blocking(move || {
            let result = Store::open(&codex_home).map_err(|e| {
                tracing::error!("cannot open the thread store: {e}");
                format!("the thread store could not be opened: {e}")
            });
            let _ = cell.set(result);
            ready_tx.send_replace(true);
        });
        StoreAccess {
            opened,
            ready,
            unsynced: Arc::new(Mutex::new((HashSet::new(), false))),
        }
    }

    /// The store, once open.
    async fn store(&self) -> Result<Store, CoreError> {
        let mut ready = self.ready.clone();
        let _ = ready.wait_for(|open| *open).await;
        match self.opened.get() {
            Some(Ok(store)) => Ok(store.clone()),
            Some(Err(e)) => Err(CoreError::Internal(e.clone())),
            None => Err(CoreError::Internal(
                "the thread store is still opening".into(),
            )),
        }
    }

    /// Runs `f` against the store on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let store = self.store().await?;
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| CoreError::Internal(format!("store task failed: {e}")))?
            .map_err(CoreError::from_store)
    }

    pub async fn create_thread(&self, new: NewThread) -> Result<ThreadRecord, CoreError> {
        self.run(move |s| s.create_thread(new)).await
    }

    pub async fn fork(&self, source_id: &str, new: NewThread) -> Result<ThreadRecord, CoreError> {
        let source_id = source_id.to_string();
        self.run(move |s| s.fork(&source_id, new)).await
    }

    /// A thread's record and every rollout line.
    pub async fn load(&self, id: &str) -> Result<LoadedThread, CoreError> {
        let id = id.to_string();
        self.run(move |s| s.load(&id)).await
    }

    pub async fn get(&self, id: &str) -> Result<Option<ThreadRecord>, CoreError> {
        let id = id.to_string();
        self.run(move |s| s.get(&id)).await
    }

    pub async fn list(&self, query: ListQuery) -> Result<ListPage, CoreError> {
        self.run(move |s| s.list(&query)).await
    }

    pub async fn archive(&self, id: &str) -> Result<ThreadRecord, CoreError> {
        let id = id.to_string();
        self.run(move |s| s.archive(&id)).await
    }

    pub async fn unarchive(&self, id: &str) -> Result<ThreadRecord, CoreError> {
        let id = id.to_string();
        self.run(move |s| s.unarchive(&id)).await
    }

    pub async fn set_name(&self, id: &str, name: &str) -> Result<ThreadRecord, CoreError> {
        let (id, name) = (id.to_string(), name.to_string());
        self.run(move |s| s.set_name(&id, &name)).await
    }

    /// Removes the thread for good: its rollout and its index row.
    pub async fn delete(&self, id: &str) -> Result<(), CoreError> {
        let id = id.to_string();
        self.run(move |s| s.delete(&id)).await
    }

    /// Feeds every complete rollout line from byte `from` on to `visit(state, position,
    /// line)`, on the blocking pool; hands `state` back with where the scan ended.
    pub async fn scan_lines<T: Send + 'static>(
        &self,
        id: &str,
        from: u64,
        mut state: T,
        visit: fn(&mut T, u64, &[u8]),
    ) -> Result<(T, ScanEnd), CoreError> {
        let id = id.to_string();
        self.run(move |s| {
            let end = s.scan_lines(&id, from, &mut |pos, line| visit(&mut state, pos, line))?;
            Ok((state, end))
        })
        .await
    }

    /// The parsable lines of each byte span of the thread's rollout.
    pub async fn read_spans(
        &self,
        id: &str,
        spans: Vec<(u64, u64)>,
    ) -> Result<Vec<Vec<RolloutLine>>, CoreError> {
        let id = id.to_string();
        self.run(move |s| s.read_spans(&id, &spans)).await
    }

    /// Appends a batch of rollout lines: one write and one index update for the batch.
    pub async fn append(&self, id: &str, entries: Vec<RolloutEntry>) -> Result<(), CoreError> {
        let id = id.to_string();
        self.run(move |s| s.append(&id, &entries)).await
    }

    /// `fdatasync` of the thread's rollout, off the caller's path (tracked by `tasks`, so a
    /// shutdown waits for it). Lines are already written when this runs: it protects against
    /// power loss, not against a crash of the process. Requests made within a short window are
    /// served by one pass on one blocking thread.
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
                let synced = access
                    .run(move |s| {
                        for id in &ids {
                            if let Err(e) = s.sync(id) {
                                tracing::warn!(thread = %id, "rollout sync failed: {e}");
                            }
                        }
                        Ok(())
                    })
                    .await;
                if let Err(e) = synced {
                    tracing::warn!("rollout sync failed: {e}");
                }
            }
        });
    }
}
