//! Full reconciliation of the index with the files on disk (the source of truth): a walk
//! of every directory plus one stat per file; only files that are new or whose size/mtime
//! changed are re-read. It also records every directory's stamp, which lets later opens
//! skip unchanged directories (`incremental.rs`). Shared helpers for applying changes live
//! here too.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use rusqlite::Connection;

use crate::error::StoreError;
use crate::index::{self, Row};
use crate::summary::{FileSummary, ScanError};
use crate::types::ReconcileStats;
use crate::walk::{self, DirStamp, DiskFile};
use crate::{dir_index, meta, schema, session_index, summary};

/// Files scanned per batch (bounds the summaries held in memory at once).
const SCAN_BATCH: usize = 4096;

const SESSION_INDEX_STATE_KEY: &str = "session_index_state";

pub(crate) fn reconcile(conn: &mut Connection, home: &Path) -> Result<ReconcileStats, StoreError> {
    let disk = walk::walk(home, &|| false);
    // Read the rows under the write lock: another process may have added some since the walk.
    let tx = conn.transaction()?;
    let known = index::file_states(&tx)?;
    let mut stats = ReconcileStats {
        files_seen: disk.files.len(),
        files_statted: disk.files.len(),
        dirs_checked: disk.dirs.len(),
        dirs_rescanned: disk.dirs.len(),
        ..ReconcileStats::default()
    };
    let on_disk: HashSet<&str> = disk.files.iter().map(|f| f.rel.as_str()).collect();
    for rel in known.keys() {
        // Not seen by the walk, but maybe created (and indexed) by another process after it.
        if !on_disk.contains(rel.as_str()) && !exists(&home.join(rel)) {
            stats.removed += index::delete_path(&tx, rel)?;
        }
    }
    let changed: Vec<&DiskFile> = disk
        .files
        .iter()
        .filter(|f| known.get(&f.rel) != Some(&(f.size, f.mtime_ns)))
        .collect();
    let unread = apply_changed(&tx, home, &changed, &mut stats)?;
    sync_session_names(&tx, home)?;
    dir_index::replace_all(&tx, &disk.dirs)?;
    forget_dir_stamps(&tx, &unread)?;
    tx.commit()?;
    Ok(stats)
}

/// Empties the index (in place: other processes keep a valid file) and rebuilds it from
/// every rollout file.
pub(crate) fn rebuild(conn: &mut Connection, home: &Path) -> Result<ReconcileStats, StoreError> {
    schema::reset_in_place(conn)?;
    let mut stats = reconcile(conn, home)?;
    stats.rebuilt = true;
    Ok(stats)
}

/// For a damaged index file: replaces the file and rebuilds it from every rollout file.
pub(crate) fn recreate(
    conn: &mut Connection,
    db_path: &Path,
    home: &Path,
) -> Result<ReconcileStats, StoreError> {
    schema::recreate(conn, db_path)?;
    let mut stats = reconcile(conn, home)?;
    stats.rebuilt = true;
    Ok(stats)
}

/// Re-reads new or changed files (in parallel) and writes their rows; files without a
/// usable `session_meta` are skipped and lose any row they had. Returns the directories
/// holding files that could not be read (I/O error): their rows were kept as they were,
/// and the caller must not record those directories as checked.
pub(crate) fn apply_changed(
    conn: &Connection,
    home: &Path,
    changed: &[&DiskFile],
    stats: &mut ReconcileStats,
) -> Result<BTreeSet<String>, StoreError> {
    let mut unread = BTreeSet::new();
    // Newest first: when two new files carry the same thread id, the newer one is indexed
    // first and kept (see `apply_scan`), whatever order the directory listing had.
    let mut changed = changed.to_vec();
    changed.sort_by(|a, b| b.mtime_ns.cmp(&a.mtime_ns).then_with(|| a.rel.cmp(&b.rel)));
    for batch in changed.chunks(SCAN_BATCH) {
        let scanned_all = scan_parallel(home, batch);
        for (file, scanned) in batch.iter().zip(scanned_all) {
            // Changed since it was listed (another process appending, say): its writer keeps
            // its row current; recording the listed state would set it back. The directory
            // stays unchecked so the next open looks again.
            if stat_of(&home.join(&file.rel)) != Some((file.size, file.mtime_ns)) {
                unread.insert(parent_dir(&file.rel).to_string());
                continue;
            }
            if !apply_scan(conn, home, file, scanned, stats)? {
                unread.insert(parent_dir(&file.rel).to_string());
            }
        }
    }
    Ok(unread)
}

/// Size and mtime of a file, `None` when it cannot be stat'ed.
pub(crate) fn stat_of(path: &Path) -> Option<(i64, i64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((
        i64::try_from(meta.len()).unwrap_or(i64::MAX),
        crate::layout::mtime_ns(&meta),
    ))
}

/// Absent only when the file system says so; an error is not proof of absence.
fn exists(path: &Path) -> bool {
    !matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Marks directories as never checked, so the next open lists them (and retries their files).
pub(crate) fn forget_dir_stamps(
    conn: &Connection,
    dirs: &BTreeSet<String>,
) -> Result<(), StoreError> {
    for dir in dirs {
        dir_index::put(conn, dir, &DirStamp::UNKNOWN)?;
    }
    Ok(())
}

/// Writes one scan result into the index. `false` when the file could not be read: an I/O
/// error says nothing about its content, so its row (if any) is kept for a later retry.
pub(crate) fn apply_scan(
    conn: &Connection,
    home: &Path,
    file: &DiskFile,
    scanned: Result<FileSummary, ScanError>,
    stats: &mut ReconcileStats,
) -> Result<bool, StoreError> {
    match scanned {
        Ok(summary) => {
            if keeps_other_file(conn, home, file, &summary.meta.id)? {
                stats.skipped += 1;
                return Ok(true);
            }
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
        Err(ScanError::Io { message, .. }) => {
            let path = home.join(&file.rel);
            tracing::warn!(path = %path.display(), error = %message, "cannot read rollout file; keeping its index row");
            return Ok(false);
        }
        Err(ScanError::Bad(reason)) => {
            let path = home.join(&file.rel);
            tracing::warn!(path = %path.display(), %reason, "skipping rollout file without a usable session_meta");
            stats.skipped += 1;
            stats.removed += index::delete_path(conn, &file.rel)?;
        }
    }
    Ok(true)
}

/// Two files with the same thread id: the row already indexed stays as long as its file
/// exists, so the row does not flip between the files on every reconciliation. `true` when
/// `file` is the one left out.
fn keeps_other_file(
    conn: &Connection,
    home: &Path,
    file: &DiskFile,
    id: &str,
) -> Result<bool, StoreError> {
    let Some(existing) = index::file_state(conn, id)? else {
        return Ok(false);
    };
    if existing.rel == file.rel {
        return Ok(false);
    }
    let kept = match std::fs::symlink_metadata(home.join(&existing.rel)) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        // Unknown is not absent: keep what we have.
        Err(_) => true,
    };
    if kept {
        tracing::warn!(thread = id, kept = %existing.rel, ignored = %file.rel, "two rollout files carry the same thread id; keeping the indexed one");
    } else {
        tracing::warn!(thread = id, gone = %existing.rel, now = %file.rel, "thread's indexed rollout file is gone; indexing the other file with its id");
    }
    Ok(kept)
}

/// Reloads the names of `session_index.jsonl` when its size or mtime changed.
pub(crate) fn sync_session_names(conn: &Connection, home: &Path) -> Result<(), StoreError> {
    let (size, mtime) = session_index::state(home);
    let state = format!("{size}:{mtime}");
    if meta::get(conn, SESSION_INDEX_STATE_KEY)?.as_deref() != Some(state.as_str()) {
        let names = session_index::read_all(home)?;
        index::reload_session_names(conn, &names)?;
        meta::set(conn, SESSION_INDEX_STATE_KEY, &state)?;
    }
    Ok(())
}

/// Reads files on all cores (a cold rebuild of 100k files is dominated by reading and JSON
/// parsing); results come back in input order.
fn scan_parallel(home: &Path, files: &[&DiskFile]) -> Vec<Result<FileSummary, ScanError>> {
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
                h.join().unwrap_or_else(|_| {
                    let died = ScanError::Io {
                        kind: std::io::ErrorKind::Other,
                        message: "scanner thread panicked".to_string(),
                    };
                    vec![Err(died); len]
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{"timestamp":"2025-01-01T10:00:00.000Z","type":"session_meta","payload":{"id":"t1","cwd":"/w","model_provider":"openai"}}"#;

    #[test]
    fn unreadable_file_keeps_its_row_and_its_directory_unchecked() {
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let dir = "sessions/2025/01/01";
        std::fs::create_dir_all(home.join(dir)).unwrap();
        let rel = format!("{dir}/rollout-2025-01-01T10-00-00-t1.jsonl");
        std::fs::write(home.join(&rel), format!("{META}\n")).unwrap();
        let mut conn = crate::schema::open(&home.join("db.sqlite")).unwrap().conn;
        reconcile(&mut conn, home).unwrap();
        assert!(index::file_state(&conn, "t1").unwrap().is_some());
        let mut stats = ReconcileStats::default();

        // An I/O error (here: the file vanished between listing and reading) keeps the row
        // and reports the directory as not checked.
        let (size, mtime_ns) = stat_of(&home.join(&rel)).unwrap();
        let moved = home.join("elsewhere.jsonl");
        std::fs::rename(home.join(&rel), &moved).unwrap();
        let mut file = DiskFile {
            rel: rel.clone(),
            size: size + 1,
            mtime_ns,
        };
        let unread = apply_changed(&conn, home, &[&file], &mut stats).unwrap();
        assert_eq!(
            unread.into_iter().collect::<Vec<_>>(),
            vec![dir.to_string()]
        );
        assert_eq!(index::file_state(&conn, "t1").unwrap().unwrap().rel, rel);
        let err = ScanError::Io {
            kind: std::io::ErrorKind::Other,
            message: "EIO".into(),
        };
        assert!(!apply_scan(&conn, home, &file, Err(err), &mut stats).unwrap());
        assert!(index::file_state(&conn, "t1").unwrap().is_some());
        forget_dir_stamps(&conn, &BTreeSet::from([dir.to_string()])).unwrap();
        assert!(!dir_index::load(&conn).unwrap()[dir].trusted());

        // Bad content, by contrast, drops the row.
        std::fs::rename(&moved, home.join(&rel)).unwrap();
        std::fs::write(home.join(&rel), "not json\n").unwrap();
        (file.size, file.mtime_ns) = stat_of(&home.join(&rel)).unwrap();
        let unread = apply_changed(&conn, home, &[&file], &mut stats).unwrap();
        assert!(unread.is_empty());
        assert!(index::file_state(&conn, "t1").unwrap().is_none());
    }
}
