//! The `Store` handle: opening (with index validation, rebuild and reconciliation),
//! lookups and listing. Writing and lifecycle operations live in `write.rs` / `lifecycle.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::error::{IoContext, StoreError};
use crate::handles::{lock, Slots};
use crate::reconcile::reconcile;
use crate::types::{ListPage, ListQuery, ReconcileStats, ThreadRecord};
use crate::{index, layout};

/// Durable thread store rooted at `$CODEX_HOME`. Cheap to clone; all methods are synchronous
/// and safe to call concurrently from many threads.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) home: PathBuf,
    pub(crate) db_path: PathBuf,
    /// Lock order: a thread's slot lock may be held while taking this one, never the reverse.
    pub(crate) db: Mutex<Connection>,
    pub(crate) slots: Slots,
    /// Serializes appends to `session_index.jsonl` within the process.
    pub(crate) names_lock: Mutex<()>,
    pub(crate) last_reconcile: Mutex<ReconcileStats>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("home", &self.inner.home)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating directories) the store under `codex_home`, validates or rebuilds the
    /// SQLite index and reconciles it with the rollout files on disk.
    pub fn open(codex_home: &Path) -> Result<Store, StoreError> {
        for dir in [layout::SESSIONS_DIR, layout::ARCHIVED_DIR] {
            let dir = codex_home.join(dir);
            fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        }
        let home =
            fs::canonicalize(codex_home).ctx(|| format!("resolve {}", codex_home.display()))?;
        let db_path = home.join(layout::DB_FILE);
        let (mut conn, mut rebuilt) = match index::open_existing(&db_path) {
            Ok(conn) => (conn, false),
            Err(reason) => {
                if db_path.exists() {
                    tracing::warn!(path = %db_path.display(), %reason, "rebuilding thread index");
                }
                (index::create_fresh(&db_path)?, true)
            }
        };
        let mut stats = match reconcile(&mut conn, &home) {
            Ok(stats) => stats,
            Err(StoreError::Index(e)) => {
                tracing::warn!(error = %e, "thread index unusable during reconciliation; rebuilding");
                drop(conn);
                conn = index::create_fresh(&db_path)?;
                rebuilt = true;
                reconcile(&mut conn, &home)?
            }
            Err(e) => return Err(e),
        };
        stats.rebuilt = rebuilt;
        tracing::debug!(?stats, "thread index reconciled");
        Ok(Store {
            inner: Arc::new(Inner {
                home,
                db_path,
                db: Mutex::new(conn),
                slots: Slots::default(),
                names_lock: Mutex::new(()),
                last_reconcile: Mutex::new(stats),
            }),
        })
    }

    /// The (canonicalized) home directory.
    pub fn codex_home(&self) -> &Path {
        &self.inner.home
    }

    /// What the last reconciliation (at `open`, `reconcile` or `rebuild_index`) did.
    pub fn last_reconcile(&self) -> ReconcileStats {
        *lock(&self.inner.last_reconcile)
    }

    /// Re-runs reconciliation against the files on disk (e.g. after another process wrote).
    pub fn reconcile(&self) -> Result<ReconcileStats, StoreError> {
        let mut db = lock(&self.inner.db);
        let stats = reconcile(&mut db, &self.inner.home)?;
        *lock(&self.inner.last_reconcile) = stats;
        Ok(stats)
    }

    /// Discards the index and rebuilds it from every rollout file.
    pub fn rebuild_index(&self) -> Result<ReconcileStats, StoreError> {
        let mut db = lock(&self.inner.db);
        // Close the old connection before deleting its files.
        drop(std::mem::replace(&mut *db, Connection::open_in_memory()?));
        *db = index::create_fresh(&self.inner.db_path)?;
        let mut stats = reconcile(&mut db, &self.inner.home)?;
        stats.rebuilt = true;
        *lock(&self.inner.last_reconcile) = stats;
        Ok(stats)
    }

    pub fn get(&self, thread_id: &str) -> Result<Option<ThreadRecord>, StoreError> {
        let db = lock(&self.inner.db);
        index::get(&db, &self.inner.home, thread_id)
    }

    /// Like `get`, but an unknown id is `StoreError::NotFound`.
    pub fn require(&self, thread_id: &str) -> Result<ThreadRecord, StoreError> {
        self.get(thread_id)?
            .ok_or_else(|| StoreError::NotFound(thread_id.to_string()))
    }

    /// One keyset page of threads (see [`ListQuery`]).
    pub fn list(&self, query: &ListQuery) -> Result<ListPage, StoreError> {
        let db = lock(&self.inner.db);
        index::list(&db, &self.inner.home, query)
    }
}
