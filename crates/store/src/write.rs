//! Writing rollout files: thread creation (and fork), appends with per-file ordinals (their
//! index updates coalesced in `pending.rs`), flush and sync.
//! Every batch of lines goes out in a single `write(2)` on an `O_APPEND` handle, so once
//! `append` returns the data is in the kernel and survives the process being killed.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use chrono::{DateTime, Local, Utc};
use serde_json::{json, Map, Value};

use crate::error::{IoContext, StoreError};
use crate::handles::{lock, OpenFile, Slot};
use crate::index::{self, AppendUpdate, Row};
use crate::store::Store;
use crate::summary::{self, Accum, FileSummary, MetaInfo};
use crate::types::{NewThread, RolloutEntry, RolloutLine, ThreadRecord};
use crate::{dir_index, layout, line, pending};

/// The `session_meta` payload (first rollout line) for a new thread, with the official
/// field names; every backend stores the same first line.
pub fn session_meta_payload(new: &NewThread) -> Value {
    let mut meta = Map::new();
    meta.insert("id".into(), json!(new.id));
    meta.insert("session_id".into(), json!(new.id));
    if let Some(parent) = &new.forked_from_id {
        meta.insert("forked_from_id".into(), json!(parent));
    }
    meta.insert(
        "timestamp".into(),
        json!(layout::format_timestamp(new.created_at)),
    );
    meta.insert("cwd".into(), json!(new.cwd.to_string_lossy()));
    meta.insert("originator".into(), json!(new.originator));
    meta.insert("cli_version".into(), json!(new.cli_version));
    meta.insert("source".into(), new.source.clone());
    meta.insert("model_provider".into(), json!(new.model_provider));
    if let Some(model) = &new.model {
        // Not in official files; lets a rebuilt index know the model before any turn_context.
        meta.insert("model".into(), json!(model));
    }
    if let Some(text) = &new.base_instructions {
        meta.insert("base_instructions".into(), json!({ "text": text }));
    }
    if let Some(tools) = &new.dynamic_tools {
        meta.insert("dynamic_tools".into(), tools.clone());
    }
    Value::Object(meta)
}

impl Store {
    /// Creates `sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl` holding the
    /// `session_meta` line, fsyncs file and directory, and indexes it.
    pub fn create_thread(&self, new: NewThread) -> Result<ThreadRecord, StoreError> {
        self.create_with_history(new, Vec::new())
    }

    /// New thread `new` (its `forked_from_id` is set to `source_id`) whose file holds a fresh
    /// `session_meta` followed by copies of the source's other lines (timestamps kept,
    /// ordinals renumbered). The source's name is inherited.
    pub fn fork(&self, source_id: &str, mut new: NewThread) -> Result<ThreadRecord, StoreError> {
        let source = self.load(source_id)?;
        new.forked_from_id = Some(source_id.to_string());
        let history = source
            .lines
            .into_iter()
            .filter(|l| l.kind != "session_meta")
            .collect();
        let fork = self.create_with_history(new, history)?;
        // A name copied via a `thread_name_updated` event is inherited already; one that only
        // lives in session_index.jsonl (e.g. set by the official binary) is carried over
        // explicitly so the fork keeps the name like upstream does.
        match source.record.name {
            Some(name) if fork.name.as_deref() != Some(name.as_str()) => {
                self.set_name(&fork.id, &name)
            }
            _ => Ok(fork),
        }
    }

    fn create_with_history(
        &self,
        new: NewThread,
        history: Vec<RolloutLine>,
    ) -> Result<ThreadRecord, StoreError> {
        layout::validate_id(&new.id)?;
        let home = &self.inner.home;
        let slot = self.inner.slots.slot(&new.id);
        let mut slot = lock(&slot);
        if self.get(&new.id)?.is_some() {
            return Err(StoreError::AlreadyExists(new.id));
        }
        let file_name = layout::rollout_file_name(new.created_at, &new.id);
        let rel_dir = layout::date_dir(new.created_at.with_timezone(&Local).date_naive());
        let abs_dir = layout::ensure_dir_durable(home, &rel_dir)?;
        let rel = layout::rel_string(&rel_dir.join(&file_name));
        let path = abs_dir.join(&file_name);

        let payload = session_meta_payload(&new);
        let meta =
            MetaInfo::from_payload(&payload, &file_name).map_err(|reason| StoreError::Corrupt {
                path: path.clone(),
                reason,
            })?;
        let now = layout::format_timestamp(Utc::now());
        let mut buf = Vec::new();
        let mut accum = Accum::default();
        line::encode_into(&mut buf, &now, 0, "session_meta", &payload)?;
        accum.observe(Some(0), "session_meta", &now, &payload);
        for (ordinal, l) in (1u64..).zip(&history) {
            let ts = if l.timestamp.is_empty() {
                &now
            } else {
                &l.timestamp
            };
            line::encode_into(&mut buf, ts, ordinal, &l.kind, &l.payload)?;
            accum.observe(Some(ordinal), &l.kind, ts, &l.payload);
        }

        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => StoreError::AlreadyExists(new.id.clone()),
                _ => StoreError::io(format!("create {}", path.display()), e),
            })?;
        (&file)
            .write_all(&buf)
            .and_then(|()| file.sync_all())
            .ctx(|| format!("write {}", path.display()))?;
        layout::sync_dir(&abs_dir)?;
        let stat = file.metadata().ctx(|| format!("stat {}", path.display()))?;
        let next_ordinal = accum.next_ordinal();
        let summary = FileSummary { meta, accum };
        {
            let db = lock(&self.inner.db);
            index::upsert(
                &db,
                &Row {
                    rel: &rel,
                    summary: &summary,
                    size: i64::try_from(stat.len()).unwrap_or(i64::MAX),
                    mtime_ns: layout::mtime_ns(&stat),
                },
            )?;
            dir_index::note_own_dir(&db, &layout::rel_string(&rel_dir))?;
        }
        slot.open = Some(OpenFile {
            file,
            next_ordinal,
            needs_newline: false,
            len: stat.len(),
        });
        drop(slot);
        self.require(&new.id)
    }

    /// Appends lines `{"timestamp","ordinal","type","payload"}` (ordinals continue the file's)
    /// in one `write(2)`. The index update (updated_at, preview, name, model) is coalesced
    /// with the thread's other appends and written before the next read of the index.
    pub fn append(&self, thread_id: &str, lines: &[RolloutEntry]) -> Result<(), StoreError> {
        let slot = self.inner.slots.slot(thread_id);
        let mut slot = lock(&slot);
        self.append_locked(thread_id, &mut slot, lines, Utc::now())
    }

    /// `append` with the thread's slot already held, stamping the lines with `now`.
    pub(crate) fn append_locked(
        &self,
        thread_id: &str,
        slot: &mut Slot,
        lines: &[RolloutEntry],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if lines.is_empty() {
            self.ensure_open(thread_id, slot)?;
            return Ok(());
        }
        let open = self.ensure_current(thread_id, slot)?;
        let ts = layout::format_timestamp(now);
        let mut buf = Vec::new();
        if open.needs_newline {
            buf.push(b'\n');
        }
        let mut accum = Accum::default();
        let mut ordinal = open.next_ordinal;
        for entry in lines {
            line::encode_into(&mut buf, &ts, ordinal, &entry.kind, &entry.payload)?;
            accum.observe(Some(ordinal), &entry.kind, &ts, &entry.payload);
            ordinal += 1;
        }
        if let Err(e) = (&open.file).write_all(&buf) {
            // The tail is now unknown (maybe a partial line): re-derive it on the next use.
            slot.open = None;
            return Err(StoreError::io(format!("append to thread {thread_id}"), e));
        }
        open.needs_newline = false;
        open.next_ordinal = ordinal;
        let stat = match open.file.metadata() {
            Ok(stat) => stat,
            Err(e) => {
                slot.open = None;
                return Err(StoreError::io(
                    format!("stat rollout of thread {thread_id}"),
                    e,
                ));
            }
        };
        open.len = stat.len();
        if stat.nlink() == 0 {
            // Another process deleted (or renamed another file over) the rollout while we
            // held it open: the lines went to an inode nobody can reach. Forget the handle
            // (the next use reopens by path) and tell the caller the lines are lost.
            slot.open = None;
            return Err(StoreError::io(
                format!("append to thread {thread_id}"),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "rollout file was deleted or replaced by another process; lines not saved",
                ),
            ));
        }
        let update = AppendUpdate {
            size: i64::try_from(stat.len()).unwrap_or(i64::MAX),
            mtime_ns: layout::mtime_ns(&stat),
            next_ordinal: ordinal,
            preview: accum.preview,
            event_name: accum.event_name,
            model: accum.model,
        };
        if self.inner.pending.merge(thread_id, update) {
            pending::flush_one(&self.inner.pending, &self.inner.db, thread_id)?;
        }
        Ok(())
    }

    /// Writes the index updates of earlier appends that are still pending (see
    /// `pending.rs`): call at the end of a turn so other processes sharing the index see it.
    /// Reads in this process never need it.
    pub fn flush(&self) -> Result<(), StoreError> {
        pending::flush_all(&self.inner.pending, &self.inner.db)
    }

    /// `flush` for one thread.
    pub fn flush_thread(&self, thread_id: &str) -> Result<(), StoreError> {
        pending::flush_one(&self.inner.pending, &self.inner.db, thread_id)
    }

    /// `fdatasync` of the thread's rollout file, and its pending index update.
    pub fn sync(&self, thread_id: &str) -> Result<(), StoreError> {
        let slot = self.inner.slots.slot(thread_id);
        let mut slot = lock(&slot);
        let open = self.ensure_open(thread_id, &mut slot)?;
        open.file
            .sync_data()
            .ctx(|| format!("fdatasync rollout of thread {thread_id}"))?;
        pending::flush_one(&self.inner.pending, &self.inner.db, thread_id)
    }

    /// [`Store::ensure_open`], reopening a cached handle whose file another process has
    /// appended to since our last write (one `fstat`), so ordinals continue theirs.
    fn ensure_current<'a>(
        &self,
        thread_id: &str,
        slot: &'a mut Slot,
    ) -> Result<&'a mut OpenFile, StoreError> {
        let stale = match &slot.open {
            Some(open) => open
                .file
                .metadata()
                .map_or(true, |stat| stat.len() != open.len),
            None => false,
        };
        if stale {
            tracing::debug!(thread = %thread_id, "rollout grew behind our back; reopening it");
            slot.open = None;
        }
        self.ensure_open(thread_id, slot)
    }

    /// The slot's append handle, opening it if needed. If the file changed since it was
    /// indexed (another writer, or a crash between write and index update), it is re-read so
    /// the next ordinal is right.
    pub(crate) fn ensure_open<'a>(
        &self,
        thread_id: &str,
        slot: &'a mut Slot,
    ) -> Result<&'a mut OpenFile, StoreError> {
        if slot.open.is_none() {
            slot.open = Some(self.open_for_append(thread_id)?);
        }
        slot.open
            .as_mut()
            .ok_or_else(|| StoreError::NotFound(thread_id.to_string()))
    }

    fn open_for_append(&self, thread_id: &str) -> Result<OpenFile, StoreError> {
        pending::flush_one(&self.inner.pending, &self.inner.db, thread_id)?;
        let state = {
            let db = lock(&self.inner.db);
            index::file_state(&db, thread_id)?
        }
        .ok_or_else(|| StoreError::NotFound(thread_id.to_string()))?;
        let path = self.inner.home.join(&state.rel);
        let file = OpenOptions::new()
            .append(true)
            .read(true)
            .open(&path)
            .ctx(|| format!("open {}", path.display()))?;
        let stat = file.metadata().ctx(|| format!("stat {}", path.display()))?;
        let size = i64::try_from(stat.len()).unwrap_or(i64::MAX);
        let mtime_ns = layout::mtime_ns(&stat);
        let next_ordinal = if size == state.size && mtime_ns == state.mtime_ns {
            state.next_ordinal
        } else {
            self.reindex_file(thread_id, &path, &state.rel, size, mtime_ns)?
        };
        let needs_newline = match stat.len() {
            0 => false,
            len => {
                let mut last = [0u8; 1];
                file.read_exact_at(&mut last, len - 1)
                    .ctx(|| format!("read {}", path.display()))?;
                last[0] != b'\n'
            }
        };
        Ok(OpenFile {
            file,
            next_ordinal,
            needs_newline,
            len: stat.len(),
        })
    }

    /// Re-reads one file into the index; returns its next ordinal.
    fn reindex_file(
        &self,
        thread_id: &str,
        path: &Path,
        rel: &str,
        size: i64,
        mtime_ns: i64,
    ) -> Result<u64, StoreError> {
        let summary = summary::scan_file(path).map_err(|e| e.into_error(path))?;
        if summary.meta.id != thread_id {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "session_meta id {} does not match thread {thread_id}",
                    summary.meta.id
                ),
            });
        }
        let db = lock(&self.inner.db);
        index::upsert(
            &db,
            &Row {
                rel,
                summary: &summary,
                size,
                mtime_ns,
            },
        )?;
        Ok(summary.accum.next_ordinal())
    }
}
