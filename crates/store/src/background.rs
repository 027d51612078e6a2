//! The background work started by `open`.
//!
//! 0. Integrity check of an existing index (`PRAGMA quick_check` reads the whole file, too
//!    slow for the critical path); a damaged index is rebuilt from the files.
//! 1. After a fast (directory-stamp) open, the per-file pass: a full walk with one stat per file, re-reading files whose size/mtime
//!    differ from their rows (in-place appends by another process do not change directory
//!    mtimes). Changes are committed in short batches, each holding the slot locks of the
//!    threads involved and then the index lock, and re-checking the file under them, so a
//!    record written meanwhile by this process is never overwritten with older data.
//! 2. Settling (`settle.rs`) of the directory stamps that were still racy at open, once
//!    the clock has moved past their racy window.
//!
//! The thread shares only the index connection, the slots and a control block with the
//! store and checks a cancel flag between steps (and between batches), so dropping the store
//! stops and joins it within one short batch.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use crate::error::StoreError;
use crate::handles::{lock, Slot, Slots};
use crate::index;
use crate::index_paths::{self, PathRow};
use crate::reconcile::{apply_scan, recreate, stat_of};
use crate::types::{BackgroundReconcile, ReconcileStats};
use crate::walk::{self, DiskFile};
use crate::{settle, summary};

/// Files per committed batch: bounds how long appenders and readers can be held up.
const BATCH: usize = 128;
/// Settling waits at most this long for a racy window to pass (longer: leave it to the next open).
const MAX_SETTLE_WAIT: Duration = Duration::from_secs(3);

/// Shared between the store and its background thread.
pub(crate) struct Control {
    cancel: AtomicBool,
    state: Mutex<BackgroundReconcile>,
    changed: Condvar,
}

impl Control {
    pub(crate) fn new(state: BackgroundReconcile) -> Control {
        Control {
            cancel: AtomicBool::new(false),
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Asks the thread to stop at its next check (and wakes it if it is waiting).
    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
        let _state = lock(&self.state);
        self.changed.notify_all();
    }

    pub(crate) fn set(&self, state: BackgroundReconcile) {
        *lock(&self.state) = state;
        self.changed.notify_all();
    }

    pub(crate) fn state(&self) -> BackgroundReconcile {
        lock(&self.state).clone()
    }

    /// The state once it is no longer `Running`, or `Running` after `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) -> BackgroundReconcile {
        let guard = lock(&self.state);
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, timeout, |s| *s == BackgroundReconcile::Running)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        guard.clone()
    }

    /// Sleeps for `d` unless cancelled first; `false` when cancelled.
    fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut guard = lock(&self.state);
        while !self.cancelled() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            guard = self
                .changed
                .wait_timeout(guard, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        false
    }
}

/// What the thread shares with the store (which builds it).
pub(crate) struct Shared {
    pub home: PathBuf,
    pub db_path: PathBuf,
    pub db: Arc<Mutex<Connection>>,
    pub slots: Arc<Slots>,
    pub last_reconcile: Arc<Mutex<ReconcileStats>>,
    pub ctl: Arc<Control>,
}

/// What the thread has to do besides settling directory stamps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub check_integrity: bool,
    pub per_file: bool,
}

impl Plan {
    /// Whether there is a pass whose outcome `wait_background_reconcile` reports.
    pub(crate) fn runs_pass(&self) -> bool {
        self.check_integrity || self.per_file
    }
}

/// Starts the thread.
pub(crate) fn spawn(shared: Shared, plan: Plan) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("codex-store-reconcile".to_string())
        .spawn(move || {
            if plan.runs_pass() {
                let state = match pass(&shared, plan) {
                    Ok(Some(stats)) => {
                        tracing::debug!(?stats, "background reconciliation finished");
                        BackgroundReconcile::Finished(stats)
                    }
                    Ok(None) => BackgroundReconcile::Cancelled,
                    Err(e) => {
                        tracing::warn!(error = %e, "background reconciliation failed");
                        BackgroundReconcile::Failed(e.to_string())
                    }
                };
                let finished = matches!(state, BackgroundReconcile::Finished(_));
                shared.ctl.set(state);
                if !finished {
                    return;
                }
            }
            if let Err(e) = settle(&shared) {
                tracing::debug!(error = %e, "settling directory stamps failed");
            }
        })
}

/// Integrity check, then (unless the index had to be rebuilt) the per-file pass.
/// `None` when cancelled.
fn pass(shared: &Shared, plan: Plan) -> Result<Option<ReconcileStats>, StoreError> {
    // A separate read connection: neither the check nor the snapshot of 100k rows may hold
    // the shared lock.
    let conn = Connection::open_with_flags(
        &shared.db_path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    if plan.check_integrity {
        let problem = match index::integrity_problem(&conn) {
            Ok(problem) => problem,
            Err(StoreError::Index(e)) => Some(e.to_string()),
            Err(e) => return Err(e),
        };
        if let Some(reason) = problem {
            drop(conn);
            if shared.ctl.cancelled() {
                return Ok(None);
            }
            tracing::warn!(path = %shared.db_path.display(), %reason, "rebuilding thread index");
            let mut db = lock(&shared.db);
            let stats = recreate(&mut db, &shared.db_path, &shared.home)?;
            *lock(&shared.last_reconcile) = stats;
            return Ok(Some(stats));
        }
    }
    if !plan.per_file {
        return Ok(Some(ReconcileStats::default()));
    }
    let known = index_paths::path_rows(&conn)?;
    drop(conn);
    per_file_pass(shared, known)
}

/// `None` when cancelled.
fn per_file_pass(
    shared: &Shared,
    known: HashMap<String, PathRow>,
) -> Result<Option<ReconcileStats>, StoreError> {
    let (ctl, home) = (&*shared.ctl, shared.home.as_path());
    let disk = walk::walk(home, &|| ctl.cancelled());
    if ctl.cancelled() {
        return Ok(None);
    }
    let mut stats = ReconcileStats {
        files_seen: disk.files.len(),
        files_statted: disk.files.len(),
        dirs_checked: disk.dirs.len(),
        dirs_rescanned: disk.dirs.len(),
        ..ReconcileStats::default()
    };
    let on_disk: HashSet<&str> = disk.files.iter().map(|f| f.rel.as_str()).collect();
    let gone: Vec<(&String, &PathRow)> = known
        .iter()
        .filter(|(rel, _)| !on_disk.contains(rel.as_str()))
        .collect();
    let changed: Vec<&DiskFile> = disk
        .files
        .iter()
        .filter(|f| {
            known
                .get(&f.rel)
                .is_none_or(|k| (k.size, k.mtime_ns) != (f.size, f.mtime_ns))
        })
        .collect();
    for batch in changed.chunks(BATCH) {
        let scans: Vec<_> = batch
            .iter()
            .map(|f| summary::scan_file(&home.join(&f.rel)))
            .collect();
        if ctl.cancelled() {
            return Ok(None);
        }
        commit_changed(shared, &known, batch, scans, &mut stats)?;
    }
    for batch in gone.chunks(BATCH) {
        if ctl.cancelled() {
            return Ok(None);
        }
        commit_gone(shared, batch, &mut stats)?;
    }
    Ok(Some(stats))
}

/// Slot locks of `ids` (sorted, so two holders of several never deadlock), then the caller
/// takes the index lock: the documented order.
fn lock_slots(slots: &Slots, ids: BTreeSet<&str>) -> Vec<Arc<Mutex<Slot>>> {
    ids.into_iter().map(|id| slots.slot(id)).collect()
}

fn commit_changed(
    inner: &Shared,
    known: &HashMap<String, PathRow>,
    batch: &[&DiskFile],
    scans: Vec<Result<summary::FileSummary, summary::ScanError>>,
    stats: &mut ReconcileStats,
) -> Result<(), StoreError> {
    let mut ids = BTreeSet::new();
    for (file, scan) in batch.iter().zip(&scans) {
        if let Ok(s) = scan {
            ids.insert(s.meta.id.as_str());
        }
        if let Some(row) = known.get(&file.rel) {
            ids.insert(row.id.as_str());
        }
    }
    let slots = lock_slots(&inner.slots, ids);
    let _held: Vec<_> = slots.iter().map(|s| lock(s)).collect();
    let mut db = lock(&inner.db);
    let tx = db.transaction()?;
    for (file, scan) in batch.iter().zip(scans) {
        // Changed again since the walk (maybe by us, whose row is then newer): leave it.
        if stat_of(&inner.home.join(&file.rel)) != Some((file.size, file.mtime_ns)) {
            continue;
        }
        let current = index_paths::path_row(&tx, &file.rel)?;
        if let (Some(row), Ok(s)) = (&current, &scan) {
            if row.id == s.meta.id && (row.size, row.mtime_ns) == (file.size, file.mtime_ns) {
                continue; // already recorded by this process
            }
        }
        apply_scan(&tx, &inner.home, file, scan, stats)?;
    }
    tx.commit()?;
    Ok(())
}

fn commit_gone(
    inner: &Shared,
    batch: &[(&String, &PathRow)],
    stats: &mut ReconcileStats,
) -> Result<(), StoreError> {
    let slots = lock_slots(
        &inner.slots,
        batch.iter().map(|(_, r)| r.id.as_str()).collect(),
    );
    let _held: Vec<_> = slots.iter().map(|s| lock(s)).collect();
    let mut db = lock(&inner.db);
    let tx = db.transaction()?;
    for (rel, row) in batch {
        // With the slot held no archive/unarchive of this thread is half done: a file that
        // is missing now is really gone (or its row already points elsewhere).
        if std::fs::symlink_metadata(inner.home.join(rel.as_str())).is_ok() {
            continue;
        }
        stats.removed += index_paths::delete_path_of(&tx, rel, &row.id)?;
    }
    tx.commit()?;
    Ok(())
}

/// Waits (bounded, cancellable) until the remaining racy stamps can be proven, then
/// settles them.
fn settle(shared: &Shared) -> Result<(), StoreError> {
    let pending = settle::pending(&shared.home, &shared.db)?;
    let Some(latest) = pending.iter().map(|(_, s)| s.settles_at_ns()).max() else {
        return Ok(());
    };
    let wait_ns = latest.saturating_sub(walk::now_ns()).max(0);
    let wait = Duration::from_nanos(u64::try_from(wait_ns).unwrap_or(u64::MAX));
    if wait > MAX_SETTLE_WAIT || !shared.ctl.sleep(wait) {
        return Ok(());
    }
    for (rel, before) in pending {
        if shared.ctl.cancelled() {
            return Ok(());
        }
        settle::settle_dir(&shared.home, &shared.db, &rel, &before)?;
    }
    Ok(())
}
