//! Full reconciliation of the index with the files on disk (the source of truth): a walk
//! of every directory plus one stat per file; only files that are new or whose size/mtime
//! changed are re-read. It also records every directory's stamp, which lets later opens
//! skip unchanged directories (`incremental.rs`). Shared helpers for applying changes live
//! here too.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::index::{self, Row};
use crate::summary::FileSummary;
use crate::types::ReconcileStats;
use crate::walk::{self, DiskFile};
use crate::{dir_index, session_index, summary};

/// Files scanned per batch (bounds the summaries held in memory at once).
const SCAN_BATCH: usize = 4096;

const SESSION_INDEX_STATE_KEY: &str = "session_index_state";

pub(crate) fn reconcile(conn: &mut Connection, home: &Path) -> Result<ReconcileStats, StoreError> {
    let disk = walk::walk(home, &|| false);
    let known = index::file_states(conn)?;
    let mut stats = ReconcileStats {
        files_seen: disk.files.len(),
        files_statted: disk.files.len(),
        dirs_checked: disk.dirs.len(),
        dirs_rescanned: disk.dirs.len(),
        ..ReconcileStats::default()
    };
    let tx = conn.transaction()?;
    let on_disk: HashSet<&str> = disk.files.iter().map(|f| f.rel.as_str()).collect();
    for rel in known.keys() {
        if !on_disk.contains(rel.as_str()) {
            stats.removed += index::delete_path(&tx, rel)?;
        }
    }
    let changed: Vec<&DiskFile> = disk
        .files
        .iter()
        .filter(|f| known.get(&f.rel) != Some(&(f.size, f.mtime_ns)))
        .collect();
    apply_changed(&tx, home, &changed, &mut stats)?;
    sync_session_names(&tx, home)?;
    dir_index::replace_all(&tx, &disk.dirs)?;
    tx.commit()?;
    Ok(stats)
}

/// Replaces the index with a fresh one built from every rollout file.
pub(crate) fn rebuild(
    conn: &mut Connection,
    db_path: &Path,
    home: &Path,
) -> Result<ReconcileStats, StoreError> {
    // Close the old connection before deleting its files.
    drop(std::mem::replace(conn, Connection::open_in_memory()?));
    *conn = index::create_fresh(db_path)?;
    let mut stats = reconcile(conn, home)?;
    stats.rebuilt = true;
    Ok(stats)
}

/// Re-reads new or changed files (in parallel) and writes their rows; files without a
/// usable `session_meta` are skipped and lose any row they had.
pub(crate) fn apply_changed(
    conn: &Connection,
    home: &Path,
    changed: &[&DiskFile],
    stats: &mut ReconcileStats,
) -> Result<(), StoreError> {
    for batch in changed.chunks(SCAN_BATCH) {
        let scanned_all = scan_parallel(home, batch);
        for (file, scanned) in batch.iter().zip(scanned_all) {
            apply_scan(conn, home, file, scanned, stats)?;
        }
    }
    Ok(())
}

/// Writes one scan result into the index.
pub(crate) fn apply_scan(
    conn: &Connection,
    home: &Path,
    file: &DiskFile,
    scanned: Result<FileSummary, String>,
    stats: &mut ReconcileStats,
) -> Result<(), StoreError> {
    match scanned {
        Ok(summary) => {
            index::upsert(
                conn,
                &Row {
                    rel: &file.rel,
                    summary: &summary,
                    size: file.size,
                    mtime_ns: file.mtime_ns,
                },
            )?;
            stats.reindexed += 1;
        }
        Err(reason) => {
            let path = home.join(&file.rel);
            tracing::warn!(path = %path.display(), %reason, "skipping rollout file without a usable session_meta");
            stats.skipped += 1;
            stats.removed += index::delete_path(conn, &file.rel)?;
        }
    }
    Ok(())
}

/// Reloads the names of `session_index.jsonl` when its size or mtime changed.
pub(crate) fn sync_session_names(conn: &Connection, home: &Path) -> Result<(), StoreError> {
    let (size, mtime) = session_index::state(home);
    let state = format!("{size}:{mtime}");
    if index::meta_get(conn, SESSION_INDEX_STATE_KEY)?.as_deref() != Some(state.as_str()) {
        let names = session_index::read_all(home)?;
        index::reload_session_names(conn, &names)?;
        index::meta_set(conn, SESSION_INDEX_STATE_KEY, &state)?;
    }
    Ok(())
}

/// Reads files on all cores (a cold rebuild of 100k files is dominated by reading and JSON
/// parsing); results come back in input order.
fn scan_parallel(home: &Path, files: &[&DiskFile]) -> Vec<Result<FileSummary, String>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if workers == 1 || files.len() < 64 {
        return files
            .iter()
            .map(|f| summary::scan_file(&home.join(&f.rel)))
            .collect();
    }
    let chunk = files.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let handle = scope.spawn(move || {
                    part.iter()
                        .map(|f| summary::scan_file(&home.join(&f.rel)))
                        .collect::<Vec<_>>()
                });
                (part.len(), handle)
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|(len, h)| {
                // Keep results aligned with `files` even if a scanner died.
                h.join()
                    .unwrap_or_else(|_| vec![Err("scanner thread panicked".to_string()); len])
            })
            .collect()
    })
}
