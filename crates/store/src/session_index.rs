//! `$CODEX_HOME/session_index.jsonl`: the append-only thread-name log shared with the
//! official binary (`{"id","thread_name","updated_at"}`, newest entry per id wins).

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{IoContext, StoreError};
use crate::layout;

#[derive(Serialize, Deserialize)]
struct Entry {
    id: String,
    thread_name: String,
    #[serde(default)]
    updated_at: String,
}

/// Name and time (Unix ms; 0 if the entry's time is unparsable) of the newest entry for an id.
pub(crate) type Names = HashMap<String, (String, i64)>;

/// Size and mtime of the file (0, 0 when absent); used to skip re-reading an unchanged log.
pub(crate) fn state(home: &Path) -> (i64, i64) {
    match fs::metadata(home.join(layout::SESSION_INDEX_FILE)) {
        Ok(meta) => (
            i64::try_from(meta.len()).unwrap_or(i64::MAX),
            layout::mtime_ns(&meta),
        ),
        Err(_) => (0, 0),
    }
}

/// Appends one entry with a single write, first terminating a torn last line if any.
/// Callers serialize appends within the process.
pub(crate) fn append(
    home: &Path,
    id: &str,
    name: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let path = home.join(layout::SESSION_INDEX_FILE);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)
        .ctx(|| format!("open {}", path.display()))?;
    let len = file
        .metadata()
        .ctx(|| format!("stat {}", path.display()))?
        .len();
    let mut buf = Vec::new();
    if len > 0 {
        let mut last = [0u8; 1];
        file.read_exact_at(&mut last, len - 1)
            .ctx(|| format!("read {}", path.display()))?;
        if last[0] != b'\n' {
            buf.push(b'\n');
        }
    }
    serde_json::to_writer(
        &mut buf,
        &Entry {
            id: id.to_string(),
            thread_name: name.to_string(),
            updated_at: layout::format_timestamp(at),
        },
    )?;
    buf.push(b'\n');
    (&file)
        .write_all(&buf)
        .and_then(|()| file.sync_data())
        .ctx(|| format!("append to {}", path.display()))
}

/// Reads the whole log; later entries replace earlier ones. Bad lines are skipped.
pub(crate) fn read_all(home: &Path) -> Result<Names, StoreError> {
    let path = home.join(layout::SESSION_INDEX_FILE);
    let data = match fs::read(&path) {
        Ok(data) => data,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Names::new()),
        Err(e) => return Err(StoreError::io(format!("read {}", path.display()), e)),
    };
    let mut names = Names::new();
    for (number, bytes) in crate::line::split_lines(&data) {
        match serde_json::from_slice::<Entry>(bytes) {
            Ok(entry) => {
                let at = layout::parse_timestamp_ms(&entry.updated_at).unwrap_or(0);
                names.insert(entry.id, (entry.thread_name, at));
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), line = number, error = %e, "skipping bad session_index line");
            }
        }
    }
    Ok(names)
}
