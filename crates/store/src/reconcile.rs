//! Brings the index in line with the files on disk (the source of truth): a directory walk
//! plus one stat per file; only files that are new or whose size/mtime changed are re-read.

use std::collections::HashSet;
use std::path::Path;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::index::{self, Row};
use crate::layout::DiskFile;
use crate::summary::FileSummary;
use crate::types::ReconcileStats;
use crate::{layout, session_index, summary};

/// Files scanned per batch (bounds the summaries held in memory at once).
const SCAN_BATCH: usize = 4096;

const SESSION_INDEX_STATE_KEY: &str = "session_index_state";

pub(crate) fn reconcile(conn: &mut Connection, home: &Path) -> Result<ReconcileStats, StoreError> {
    let disk = layout::walk(home);
    let known = index::file_states(conn)?;
    let mut stats = ReconcileStats {
        files_seen: disk.len(),
        ..ReconcileStats::default()
    };
    let tx = conn.transaction()?;
    let on_disk: HashSet<&str> = disk.iter().map(|f| f.rel.as_str()).collect();
    for rel in known.keys() {
        if !on_disk.contains(rel.as_str()) {
            stats.removed += index::delete_path(&tx, rel)?;
        }
    }
    let changed: Vec<&DiskFile> = disk
        .iter()
        .filter(|f| known.get(&f.rel) != Some(&(f.size, f.mtime_ns)))
        .collect();
    for batch in changed.chunks(SCAN_BATCH) {
        let scanned_all = scan_parallel(home, batch);
        for (file, scanned) in batch.iter().zip(scanned_all) {
            match scanned {
                Ok(summary) => {
                    index::upsert(
                        &tx,
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
                    stats.removed += index::delete_path(&tx, &file.rel)?;
                }
            }
        }
    }
    let (size, mtime) = session_index::state(home);
    let state = format!("{size}:{mtime}");
    if index::meta_get(&tx, SESSION_INDEX_STATE_KEY)?.as_deref() != Some(state.as_str()) {
        let names = session_index::read_all(home)?;
        index::reload_session_names(&tx, &names)?;
        index::meta_set(&tx, SESSION_INDEX_STATE_KEY, &state)?;
    }
    tx.commit()?;
    Ok(stats)
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
