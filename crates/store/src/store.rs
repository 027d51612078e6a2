//! The `Store` handle: opening (with index validation, rebuild and reconciliation),
//! lookups and listing. Writing and lifecycle operations live in `write.rs` / `lifecycle.rs`;
//! the per-file pass that follows a fast open runs in `background.rs`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use crate::background::{self, Control};
use crate::error::{IoContext, StoreError};
use crate::handles::{lock, Slots};
use crate::incremental::reconcile_incremental;
use crate::pending::{self, Pending};
use crate::reconcile::{rebuild, reconcile, recreate};
use crate::types::{BackgroundReconcile, ListPage, ListQuery, ReconcileStats, ThreadRecord};
use crate::{index, layout, schema, settle};

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
    /// Shared with the background reconciliation thread.
    pub(crate) db: Arc<Mutex<Connection>>,
    pub(crate) slots: Arc<Slots>,
    /// Serializes appends to `session_index.jsonl` within the process.
    pub(crate) names_lock: Mutex<()>,
    /// Shared with the background thread, which may rebuild a damaged index.
    pub(crate) last_reconcile: Arc<Mutex<ReconcileStats>>,
    pub(crate) background: Arc<Control>,
    background_thread: Mutex<Option<JoinHandle<()>>>,
    /// Index updates of appends not yet written (`pending.rs`).
    pub(crate) pending: Pending,
}

impl Inner {
    /// Stops the background thread (if any) and waits for it: it checks the flag between
    /// directories and files and commits in short batches, so this is quick.
    fn stop_background(&self) {
        self.background.cancel();
        if let Some(handle) = lock(&self.background_thread).take() {
            if handle.join().is_err() {
                tracing::warn!("background reconciliation thread panicked");
            }
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_background();
        if let Err(e) = pending::flush_all(&self.pending, &self.db) {
            tracing::warn!(error = %e, "cannot write pending index updates; the next open re-reads those files");
        }
    }
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
    ///
    /// With an index that recorded the tree before, only directories are stat'ed: those
    /// whose stamp changed (threads created, removed or renamed behind our back) are listed
    /// and their files reconciled before this returns. A background pass then stats every
    /// file to catch in-place changes by other processes, after checking the integrity of
    /// the existing index (a damaged one is rebuilt there); see
    /// [`Store::wait_background_reconcile`].
    pub fn open(codex_home: &Path) -> Result<Store, StoreError> {
        for dir in [layout::SESSIONS_DIR, layout::ARCHIVED_DIR] {
            let dir = codex_home.join(dir);
            fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        }
        let home =
            fs::canonicalize(codex_home).ctx(|| format!("resolve {}", codex_home.display()))?;
        let db_path = home.join(layout::DB_FILE);
        let schema::Opened { mut conn, fresh } =
            schema::open(&db_path).map_err(|e| explain_open_failure(&home, e))?;
        let mut rebuilt = fresh;
        let first = if fresh {
            reconcile(&mut conn, &home).map(|s| (s, false))
        } else {
            reconcile_fast_or_full(&mut conn, &home)
        };
        let (mut stats, fast) = match first {
            Ok(done) => done,
            Err(StoreError::Index(e)) if schema::is_damage(&e) => {
                tracing::warn!(error = %e, "thread index damaged; rebuilding");
                rebuilt = true;
                (recreate(&mut conn, &db_path, &home)?, false)
            }
            Err(e) => return Err(e),
        };
        stats.rebuilt = rebuilt;
        tracing::debug!(?stats, "thread index reconciled");
        let plan = background::Plan {
            // A fresh index was just written by us; an existing one is checked off the
            // critical path (the check reads the whole file).
            check_integrity: !rebuilt,
            // Files in directories that were not listed have not been stat'ed yet.
            per_file: fast && stats.dirs_rescanned < stats.dirs_checked,
        };
        let inner = Inner {
            home,
            db_path,
            db: Arc::new(Mutex::new(conn)),
            slots: Arc::new(Slots::default()),
            names_lock: Mutex::new(()),
            last_reconcile: Arc::new(Mutex::new(stats)),
            background: Arc::new(Control::new(if plan.runs_pass() {
                BackgroundReconcile::Running
            } else {
                BackgroundReconcile::NotStarted
            })),
            background_thread: Mutex::new(None),
            pending: Pending::default(),
        };
        // A long (e.g. cold) reconciliation may have outlived the racy window of the stamps
        // it took; proving them now lets the next open skip those directories.
        if let Err(e) = settle::settle_ready(&inner.home, &inner.db) {
            tracing::debug!(error = %e, "settling directory stamps failed");
        }
        let shared = background::Shared {
            home: inner.home.clone(),
            db_path: inner.db_path.clone(),
            db: Arc::clone(&inner.db),
            slots: Arc::clone(&inner.slots),
            last_reconcile: Arc::clone(&inner.last_reconcile),
            ctl: Arc::clone(&inner.background),
        };
        match background::spawn(shared, plan) {
            Ok(handle) => *lock(&inner.background_thread) = Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start background reconciliation");
                if plan.runs_pass() {
                    inner.background.cancel();
                    inner.background.set(BackgroundReconcile::Failed(format!(
                        "cannot start thread: {e}"
                    )));
                }
            }
        }
        Ok(Store {
            inner: Arc::new(inner),
        })
    }

    /// State of the background per-file pass started by `open`.
    pub fn background_reconcile(&self) -> BackgroundReconcile {
        self.inner.background.state()
    }

    /// Waits (at most `timeout`) until the background per-file pass started by `open` is no
    /// longer running, and returns its state (`Running` if the timeout passed first).
    pub fn wait_background_reconcile(&self, timeout: Duration) -> BackgroundReconcile {
        self.inner.background.wait(timeout)
    }

    /// The (canonicalized) home directory.
    pub fn codex_home(&self) -> &Path {
        &self.inner.home
    }

    /// What the last reconciliation (at `open`, `reconcile` or `rebuild_index`) did.
    pub fn last_reconcile(&self) -> ReconcileStats {
        *lock(&self.inner.last_reconcile)
    }

    /// Re-runs the full reconciliation (every directory listed, every file stat'ed) against
    /// the files on disk, e.g. after another process wrote. Supersedes a background pass
    /// that is still running.
    pub fn reconcile(&self) -> Result<ReconcileStats, StoreError> {
        self.inner.stop_background();
        self.flush()?;
        let mut db = lock(&self.inner.db);
        let stats = reconcile(&mut db, &self.inner.home)?;
        *lock(&self.inner.last_reconcile) = stats;
        Ok(stats)
    }

    /// Discards the index and rebuilds it from every rollout file.
    pub fn rebuild_index(&self) -> Result<ReconcileStats, StoreError> {
        self.inner.stop_background();
        self.flush()?;
        let mut db = lock(&self.inner.db);
        let stats = rebuild(&mut db, &self.inner.home)?;
        *lock(&self.inner.last_reconcile) = stats;
        Ok(stats)
    }

    pub fn get(&self, thread_id: &str) -> Result<Option<ThreadRecord>, StoreError> {
        let flushed = pending::flush_one(&self.inner.pending, &self.inner.db, thread_id);
        read_despite(flushed);
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
        read_despite(self.flush());
        let db = lock(&self.inner.db);
        index::list(&db, &self.inner.home, query)
    }
}

/// SQLite says only "unable to open database file" when the home cannot be written (a
/// read-only mount, a full disk, wrong ownership); a write probe names the real cause.
fn explain_open_failure(home: &Path, error: StoreError) -> StoreError {
    let probe = home.join(format!(".codex-write-probe-{}", std::process::id()));
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = fs::remove_file(&probe);
            error
        }
        Err(cause) => StoreError::io(
            format!(
                "{} is not writable, so the thread index cannot be opened",
                home.display()
            ),
            cause,
        ),
    }
}

/// A read first writes pending index updates so it sees them; when that write fails (a full
/// disk), the updates stay pending and the read still answers from the index as it is, a few
/// appends behind, rather than failing: listing and reading must work on a full disk.
fn read_despite(flushed: Result<(), StoreError>) {
    if let Err(e) = flushed {
        tracing::warn!("index updates stay pending, reading the index as it is: {e}");
    }
}

/// The fast open when the tree was recorded before, else the full reconciliation;
/// `true` with the fast one.
fn reconcile_fast_or_full(
    conn: &mut Connection,
    home: &Path,
) -> Result<(ReconcileStats, bool), StoreError> {
    match reconcile_incremental(conn, home)? {
        Some(stats) => Ok((stats, true)),
        None => Ok((reconcile(conn, home)?, false)),
    }
}
