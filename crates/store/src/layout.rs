//! On-disk layout of `$CODEX_HOME`: rollout file names, date directories, the archive
//! directory, relative-path helpers and directory fsync (listing lives in `walk.rs`).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use chrono::{DateTime, Local, NaiveDate, Utc};

use crate::error::{IoContext, StoreError};

pub(crate) const SESSIONS_DIR: &str = "sessions";
pub(crate) const ARCHIVED_DIR: &str = "archived_sessions";
pub(crate) const SESSION_INDEX_FILE: &str = "session_index.jsonl";
pub(crate) const DB_FILE: &str = "state_index.sqlite";

/// Rejects ids that could escape the directory or break the file-name grammar.
pub(crate) fn validate_id(id: &str) -> Result<(), StoreError> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidArgument(format!(
            "thread id {id:?} must be non-empty ASCII letters, digits, '-' or '_'"
        )))
    }
}

/// `rollout-YYYY-MM-DDThh-mm-ss-<id>.jsonl` in local time, as the official binary names files.
pub(crate) fn rollout_file_name(created_at: DateTime<Utc>, id: &str) -> String {
    let local = created_at.with_timezone(&Local);
    format!("rollout-{}-{id}.jsonl", local.format("%Y-%m-%dT%H-%M-%S"))
}

/// `sessions/YYYY/MM/DD` (relative to the home) for a local date.
pub(crate) fn date_dir(date: NaiveDate) -> PathBuf {
    PathBuf::from(SESSIONS_DIR)
        .join(date.format("%Y").to_string())
        .join(date.format("%m").to_string())
        .join(date.format("%d").to_string())
}

/// Local date encoded in a rollout file name, if the name follows the grammar.
pub(crate) fn date_from_file_name(name: &str) -> Option<NaiveDate> {
    let rest = name.strip_prefix("rollout-")?;
    NaiveDate::parse_from_str(rest.get(..10)?, "%Y-%m-%d").ok()
}

/// Creation time encoded in a rollout file name (local time), as Unix seconds.
pub(crate) fn time_from_file_name(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("rollout-")?;
    let naive = chrono::NaiveDateTime::parse_from_str(rest.get(..19)?, "%Y-%m-%dT%H-%M-%S").ok()?;
    naive
        .and_local_timezone(Local)
        .earliest()
        .map(|t| t.timestamp())
}

pub(crate) fn is_rollout_file_name(name: &str) -> bool {
    name.starts_with("rollout-") && name.ends_with(".jsonl")
}

/// UTC timestamp in the rollout format `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// RFC 3339 timestamp to Unix milliseconds.
pub(crate) fn parse_timestamp_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

pub(crate) fn mtime_ns(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// '/'-joined relative path (the index stores paths relative to the home so a moved home still works).
pub(crate) fn rel_string(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether a relative path lies in the archive directory.
pub(crate) fn is_archived_rel(rel: &str) -> bool {
    rel.starts_with(&format!("{ARCHIVED_DIR}/"))
}

/// fsync a directory so a create/rename inside it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("fsync directory {}", dir.display()))
}

/// Creates `home/rel_dir` and fsyncs it; when new directories had to be made, also fsyncs
/// their parents up to the home so the new entries are durable.
pub(crate) fn ensure_dir_durable(home: &Path, rel_dir: &Path) -> Result<PathBuf, StoreError> {
    let abs = home.join(rel_dir);
    if abs.is_dir() {
        return Ok(abs);
    }
    fs::create_dir_all(&abs).ctx(|| format!("create directory {}", abs.display()))?;
    let mut dir = abs.clone();
    loop {
        sync_dir(&dir)?;
        if dir == home {
            break;
        }
        match dir.parent() {
            Some(parent) if parent.starts_with(home) => dir = parent.to_path_buf(),
            _ => break,
        }
    }
    Ok(abs)
}
