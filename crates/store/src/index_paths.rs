//! Path-oriented index queries used by reconciliation: rows of one directory or subtree,
//! a snapshot of every file's recorded state, and guarded deletes.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::error::StoreError;

/// `[lo, hi)` bounds selecting every text starting with `prefix` (which ends in an ASCII
/// character below DEL, e.g. '/' or '-'), so prefix queries use the `rel_path` index.
pub(crate) fn prefix_range(prefix: &str) -> (String, String) {
    let mut hi = prefix.as_bytes().to_vec();
    if let Some(last) = hi.last_mut() {
        *last = last.saturating_add(1);
    }
    (
        prefix.to_string(),
        String::from_utf8_lossy(&hi).into_owned(),
    )
}

/// `rel_path -> (size, mtime_ns)` for the indexed files directly inside directory `dir`.
pub(crate) fn rows_in_dir(
    conn: &Connection,
    dir: &str,
) -> Result<HashMap<String, (i64, i64)>, StoreError> {
    // Indexed files are all named `rollout-*`: this range skips the sub-directories' rows.
    let (lo, hi) = prefix_range(&format!("{dir}/rollout-"));
    let mut stmt = conn.prepare_cached(
        "SELECT rel_path, file_size, file_mtime_ns FROM threads
         WHERE rel_path >= ?1 AND rel_path < ?2",
    )?;
    let rows = stmt.query_map([lo, hi], |r| {
        Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?)))
    })?;
    let direct = dir.len() + 1;
    let mut out = HashMap::new();
    for row in rows {
        let (rel, state) = row?;
        if !rel[direct..].contains('/') {
            out.insert(rel, state);
        }
    }
    Ok(out)
}

/// Whether the indexed files directly inside `dir` are exactly `names` (relative paths,
/// sorted). Reads only the `rel_path` index, without allocating per row.
pub(crate) fn dir_holds_exactly(
    conn: &Connection,
    dir: &str,
    names: &[&str],
) -> Result<bool, StoreError> {
    let (lo, hi) = prefix_range(&format!("{dir}/rollout-"));
    let mut stmt = conn.prepare_cached(
        "SELECT rel_path FROM threads WHERE rel_path >= ?1 AND rel_path < ?2 ORDER BY rel_path",
    )?;
    let mut rows = stmt.query([lo, hi])?;
    let direct = dir.len() + 1;
    let mut expected = names.iter();
    while let Some(row) = rows.next()? {
        let rel = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        if rel.get(direct..).is_some_and(|rest| rest.contains('/')) {
            continue;
        }
        if expected.next() != Some(&rel) {
            return Ok(false);
        }
    }
    Ok(expected.next().is_none())
}

/// Drops every row whose file lies below directory `dir`.
pub(crate) fn delete_under(conn: &Connection, dir: &str) -> Result<usize, StoreError> {
    let (lo, hi) = prefix_range(&format!("{dir}/"));
    Ok(conn
        .prepare_cached("DELETE FROM threads WHERE rel_path >= ?1 AND rel_path < ?2")?
        .execute([lo, hi])?)
}

/// One indexed file as the background pass snapshots it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PathRow {
    pub id: String,
    pub size: i64,
    pub mtime_ns: i64,
}

/// `rel_path -> row` for every indexed file.
pub(crate) fn path_rows(conn: &Connection) -> Result<HashMap<String, PathRow>, StoreError> {
    let mut stmt = conn.prepare("SELECT rel_path, id, file_size, file_mtime_ns FROM threads")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            PathRow {
                id: r.get(1)?,
                size: r.get(2)?,
                mtime_ns: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn path_row(conn: &Connection, rel: &str) -> Result<Option<PathRow>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, file_size, file_mtime_ns FROM threads WHERE rel_path = ?1")?
        .query_row([rel], |r| {
            Ok(PathRow {
                id: r.get(0)?,
                size: r.get(1)?,
                mtime_ns: r.get(2)?,
            })
        })
        .optional()?)
}

/// Drops the row of `rel` only if it still belongs to thread `id`.
pub(crate) fn delete_path_of(conn: &Connection, rel: &str, id: &str) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM threads WHERE rel_path = ?1 AND id = ?2")?
        .execute([rel, id])?)
}

pub(crate) fn count(conn: &Connection) -> Result<usize, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM threads", [], |r| r.get(0))?;
    Ok(usize::try_from(n).unwrap_or(0))
}
