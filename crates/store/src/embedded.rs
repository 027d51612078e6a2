//! `EmbeddedStore`: the default `ThreadStore`, rollout files plus the SQLite index under
//! `$CODEX_HOME` (the synchronous [`Store`]). It opens lazily and retries: a failed open
//! (another process migrating the index, a full disk) fails that call only, and the next
//! call opens again. Every operation runs on tokio's blocking pool, never on async workers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{OnceCell, Semaphore};

use crate::error::StoreError;
use crate::spans::ScanEnd;
use crate::store::Store;
use crate::thread_store::{LineVisitor, StoreFuture, ThreadStore};
use crate::types::{
    Lease, LinePage, ListPage, ListQuery, LoadedThread, NewThread, RolloutEntry, RolloutLine,
    ThreadRecord,
};

/// Store operations running at once on the blocking pool. The index is one SQLite writer,
/// so more would only wait on its lock, each holding a pool thread (and its stack and malloc
/// arena) meanwhile: a burst of 200 `thread/start`s once grew the pool by 200 threads.
const MAX_CONCURRENT_OPS: usize = 8;

#[derive(Debug)]
pub struct EmbeddedStore {
    home: PathBuf,
    store: OnceCell<Store>,
    running: Semaphore,
}

impl EmbeddedStore {
    /// A store for `codex_home`, opened on first use (or by [`ThreadStore::ready`]).
    pub fn new(codex_home: impl Into<PathBuf>) -> EmbeddedStore {
        EmbeddedStore {
            home: codex_home.into(),
            store: OnceCell::new(),
            running: Semaphore::new(MAX_CONCURRENT_OPS),
        }
    }

    pub fn codex_home(&self) -> &Path {
        &self.home
    }

    /// The open synchronous store, opening it (on the blocking pool) if needed. Concurrent
    /// callers share one attempt; after a failure the next call tries again. A failed open
    /// is `StoreError::Unavailable` saying where and why.
    pub async fn store(&self) -> Result<&Store, StoreError> {
        self.store
            .get_or_try_init(|| {
                let home = self.home.clone();
                async move {
                    blocking(move || {
                        Store::open(&home).map_err(|e| {
                            tracing::warn!(home = %home.display(), error = %e, "cannot open the thread store; the next request tries again");
                            StoreError::Unavailable(format!(
                                "the thread store could not be opened in {}: {e}",
                                home.display()
                            ))
                        })
                    })
                    .await
                }
            })
            .await
    }

    /// The store if it is open already (never waits).
    pub fn opened(&self) -> Option<&Store> {
        self.store.get()
    }

    /// Runs `op` on the open store on the blocking pool.
    fn run<'a, T, F>(&'a self, op: F) -> StoreFuture<'a, T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        Box::pin(async move {
            let store = self.store().await?.clone();
            // Never closed, so acquiring fails only if that changes; run unbounded then.
            let _slot = self.running.acquire().await.ok();
            blocking(move || op(&store)).await
        })
    }
}

async fn blocking<T, F>(op: F) -> Result<T, StoreError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
{
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
}

impl ThreadStore for EmbeddedStore {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.store().await.map(|_| ()) })
    }

    fn create_thread(&self, new: NewThread) -> StoreFuture<'_, ThreadRecord> {
        self.run(move |s| s.create_thread(new))
    }

    fn fork<'a>(&'a self, source_id: &'a str, new: NewThread) -> StoreFuture<'a, ThreadRecord> {
        let source_id = source_id.to_string();
        self.run(move |s| s.fork(&source_id, new))
    }

    fn append<'a>(&'a self, thread_id: &'a str, entries: Vec<RolloutEntry>) -> StoreFuture<'a, ()> {
        let id = thread_id.to_string();
        self.run(move |s| s.append(&id, &entries))
    }

    fn flush<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        let id = thread_id.to_string();
        self.run(move |s| s.flush_thread(&id))
    }

    fn sync<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        let id = thread_id.to_string();
        self.run(move |s| s.sync(&id))
    }

    fn load<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, LoadedThread> {
        let id = thread_id.to_string();
        self.run(move |s| s.load(&id))
    }

    fn read_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, LinePage> {
        let id = thread_id.to_string();
        self.run(move |s| s.read_lines(&id, from, limit))
    }

    fn scan_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        mut visit: LineVisitor,
    ) -> StoreFuture<'a, ScanEnd> {
        let id = thread_id.to_string();
        self.run(move |s| s.scan_lines(&id, from, &mut visit))
    }

    fn read_spans<'a>(
        &'a self,
        thread_id: &'a str,
        spans: Vec<(u64, u64)>,
    ) -> StoreFuture<'a, Vec<Vec<RolloutLine>>> {
        let id = thread_id.to_string();
        self.run(move |s| s.read_spans(&id, &spans))
    }

    fn get<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>> {
        let id = thread_id.to_string();
        self.run(move |s| s.get(&id))
    }

    fn list(&self, query: ListQuery) -> StoreFuture<'_, ListPage> {
        self.run(move |s| s.list(&query))
    }

    fn archive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord> {
        let id = thread_id.to_string();
        self.run(move |s| s.archive(&id))
    }

    fn unarchive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord> {
        let id = thread_id.to_string();
        self.run(move |s| s.unarchive(&id))
    }

    fn set_name<'a>(&'a self, thread_id: &'a str, name: &'a str) -> StoreFuture<'a, ThreadRecord> {
        let (id, name) = (thread_id.to_string(), name.to_string());
        self.run(move |s| s.set_name(&id, &name))
    }

    fn delete<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        let id = thread_id.to_string();
        self.run(move |s| s.delete(&id))
    }

    fn acquire_lease<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease> {
        let (id, owner) = (thread_id.to_string(), owner.to_string());
        self.run(move |s| s.acquire_lease(&id, &owner, ttl))
    }

    fn release_lease<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        let (id, owner) = (thread_id.to_string(), owner.to_string());
        self.run(move |s| s.release_lease(&id, &owner))
    }
}
