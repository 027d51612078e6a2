//! Reading a thread back (whole or by pages), naming, archive/unarchive (crash-safe
//! renames) and deletion.

use std::path::{Path, PathBuf};

use chrono::{Local, TimeZone, Utc};
use serde_json::json;

use crate::error::{IoContext, StoreError};
use crate::handles::lock;
use crate::store::Store;
use crate::types::{LinePage, LoadedThread, RolloutEntry, SkippedLine, ThreadRecord};
use crate::{dir_index, index, layout, line, session_index, summary};

impl Store {
    /// Every line of the thread's rollout. Unparsable lines (e.g. a torn last line) are
    /// skipped, reported in `skipped` and logged; they are never fatal.
    pub fn load(&self, thread_id: &str) -> Result<LoadedThread, StoreError> {
        // Holding the slot keeps appends to this thread out while we read.
        let slot = self.inner.slots.slot(thread_id);
        let _slot = lock(&slot);
        let record = self.require(thread_id)?;
        let data = std::fs::read(&record.path).ctx(|| format!("read {}", record.path.display()))?;
        let mut lines = Vec::new();
        let mut skipped = Vec::new();
        for (number, bytes) in line::split_lines(&data) {
            match line::parse(bytes) {
                Ok(l) => lines.push(l),
                Err(reason) => {
                    tracing::warn!(path = %record.path.display(), line = number, %reason, "skipping unparsable rollout line");
                    skipped.push(SkippedLine {
                        line: number,
                        reason,
                    });
                }
            }
        }
        Ok(LoadedThread {
            record,
            lines,
            skipped,
        })
    }

    /// Up to `limit` lines of the thread's rollout starting at line `from` (0-based, counting
    /// parsable lines only, as `load` returns them).
    pub fn read_lines(
        &self,
        thread_id: &str,
        from: u64,
        limit: usize,
    ) -> Result<LinePage, StoreError> {
        let loaded = self.load(thread_id)?;
        let from = usize::try_from(from).unwrap_or(usize::MAX);
        let total = loaded.lines.len();
        let lines: Vec<_> = loaded.lines.into_iter().skip(from).take(limit).collect();
        let end = from.saturating_add(lines.len());
        Ok(LinePage {
            lines,
            next: (end < total).then(|| u64::try_from(end).unwrap_or(u64::MAX)),
        })
    }

    /// Deletes a thread: its rollout file (live or archived) and everything the index
    /// knows about it. The name log `session_index.jsonl` is append-only and keeps its
    /// entries, which name no thread any more.
    pub fn delete(&self, thread_id: &str) -> Result<(), StoreError> {
        let slot = self.inner.slots.slot(thread_id);
        let mut slot = lock(&slot);
        let record = self.require(thread_id)?;
        // Close our append handle first: a later append must find the thread gone.
        slot.open = None;
        self.inner.pending.take(thread_id);
        match std::fs::remove_file(&record.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::io(
                    format!("remove {}", record.path.display()),
                    e,
                ))
            }
        }
        if let Some(dir) = record.path.parent() {
            layout::sync_dir(dir)?;
        }
        let mut db = lock(&self.inner.db);
        index::delete_thread(&mut db, thread_id)?;
        Ok(())
    }

    /// Names a thread: appends to `session_index.jsonl` and a `thread_name_updated` event to
    /// the rollout, and updates the index.
    pub fn set_name(&self, thread_id: &str, name: &str) -> Result<ThreadRecord, StoreError> {
        // The slot is held across both writes (stamped with one time) so that two concurrent
        // renames cannot leave the log and the rollout disagreeing on the latest name.
        let slot = self.inner.slots.slot(thread_id);
        let mut slot = lock(&slot);
        self.require(thread_id)?;
        let now = Utc::now();
        {
            let _guard = lock(&self.inner.names_lock);
            session_index::append(&self.inner.home, thread_id, name, now)?;
            let db = lock(&self.inner.db);
            index::put_session_name(&db, thread_id, name, now.timestamp_millis())?;
        }
        self.append_locked(
            thread_id,
            &mut slot,
            &[RolloutEntry::new(
                "event_msg",
                json!({"type": "thread_name_updated", "thread_id": thread_id, "thread_name": name}),
            )],
            now,
        )?;
        drop(slot);
        self.require(thread_id)
    }

    /// Moves the rollout to `archived_sessions/<same name>`. Already archived: no-op.
    pub fn archive(&self, thread_id: &str) -> Result<ThreadRecord, StoreError> {
        self.relocate(thread_id, true)
    }

    /// Moves an archived rollout back to `sessions/YYYY/MM/DD/` (date from the file name).
    /// Not archived: no-op.
    pub fn unarchive(&self, thread_id: &str) -> Result<ThreadRecord, StoreError> {
        self.relocate(thread_id, false)
    }

    fn relocate(&self, thread_id: &str, archive: bool) -> Result<ThreadRecord, StoreError> {
        let slot = self.inner.slots.slot(thread_id);
        let _slot = lock(&slot);
        let record = self.require(thread_id)?;
        if record.archived == archive {
            return Ok(record);
        }
        let file_name = record
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| StoreError::Corrupt {
                path: record.path.clone(),
                reason: "rollout path has no file name".to_string(),
            })?;
        let rel_dir = if archive {
            PathBuf::from(layout::ARCHIVED_DIR)
        } else {
            let date = layout::date_from_file_name(&file_name).unwrap_or_else(|| {
                Local
                    .timestamp_opt(record.created_at, 0)
                    .earliest()
                    .map(|t| t.date_naive())
                    .unwrap_or_default()
            });
            layout::date_dir(date)
        };
        let home = &self.inner.home;
        let dst_dir = layout::ensure_dir_durable(home, &rel_dir)?;
        let dst = dst_dir.join(&file_name);
        // A crash (or another process) may have done the rename without the index update:
        // the move is then already done and only the index needs fixing.
        let already_moved = !exists(&record.path)? && exists(&dst)?;
        if !already_moved {
            move_file(&record.path, &dst)?;
        }
        // The open append handle (if any) follows the inode, so it stays valid.
        let rel = layout::rel_string(&rel_dir.join(&file_name));
        if let Err(e) = self.index_moved(thread_id, &rel, &dst, &rel_dir) {
            if !already_moved {
                // Put the file back where the index says it is, so both agree again.
                if let Err(back) = move_file(&dst, &record.path) {
                    tracing::warn!(error = %back, from = %dst.display(), "cannot move rollout back after index failure");
                }
            }
            return Err(e);
        }
        self.require(thread_id)
    }

    /// Points the index at the moved file. A row that vanished meanwhile (e.g. dropped by a
    /// reconciliation that saw the file missing mid-move) is rebuilt from the file.
    fn index_moved(
        &self,
        thread_id: &str,
        rel: &str,
        dst: &Path,
        rel_dir: &Path,
    ) -> Result<(), StoreError> {
        let db = lock(&self.inner.db);
        if index::relocate(&db, thread_id, rel)? == 0 {
            let summary = summary::scan_file(dst).map_err(|e| e.into_error(dst))?;
            if summary.meta.id != thread_id {
                return Err(StoreError::Corrupt {
                    path: dst.to_path_buf(),
                    reason: format!("session_meta id {} is not {thread_id}", summary.meta.id),
                });
            }
            let stat = std::fs::metadata(dst).ctx(|| format!("stat {}", dst.display()))?;
            index::upsert(
                &db,
                &index::Row {
                    rel,
                    summary: &summary,
                    size: i64::try_from(stat.len()).unwrap_or(i64::MAX),
                    mtime_ns: layout::mtime_ns(&stat),
                },
            )?;
        }
        dir_index::note_own_dir(&db, &layout::rel_string(rel_dir))
    }
}

/// Whether `path` exists; errors other than "not found" are errors, not absence.
fn exists(path: &Path) -> Result<bool, StoreError> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io(format!("stat {}", path.display()), e)),
    }
}

/// Atomic rename that refuses to overwrite, then fsyncs both directories.
fn move_file(src: &Path, dst: &Path) -> Result<(), StoreError> {
    if dst.exists() {
        return Err(StoreError::Corrupt {
            path: dst.to_path_buf(),
            reason: format!("cannot move {} there: file exists", src.display()),
        });
    }
    std::fs::rename(src, dst).ctx(|| format!("rename {} to {}", src.display(), dst.display()))?;
    if let Some(dir) = dst.parent() {
        layout::sync_dir(dir)?;
    }
    if let Some(dir) = src.parent() {
        layout::sync_dir(dir)?;
    }
    Ok(())
}
