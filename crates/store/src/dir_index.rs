//! Directory stamps recorded in the index (`dirs` table, created in `schema.rs`): for each directory, what it looked
//! like when the index last matched its listing. An open trusts an unchanged directory
//! (see `incremental.rs`) only when the whole tree was recorded once (`dirs_complete`).

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::error::StoreError;
use crate::walk::DirStamp;
use crate::{index_paths, meta};

const COMPLETE_KEY: &str = "dirs_complete";

pub(crate) fn load(conn: &Connection) -> Result<HashMap<String, DirStamp>, StoreError> {
    let mut stmt = conn.prepare("SELECT rel, mtime_ns, ino, seen_ns FROM dirs")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            DirStamp {
                mtime_ns: r.get(1)?,
                ino: r.get(2)?,
                seen_ns: r.get(3)?,
            },
        ))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn put(conn: &Connection, rel: &str, s: &DirStamp) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO dirs (rel, mtime_ns, ino, seen_ns) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(rel) DO UPDATE SET mtime_ns = excluded.mtime_ns, ino = excluded.ino,
             seen_ns = excluded.seen_ns",
    )?
    .execute(params![rel, s.mtime_ns, s.ino, s.seen_ns])?;
    Ok(())
}

/// Forgets a directory and everything recorded below it.
pub(crate) fn delete_tree(conn: &Connection, rel: &str) -> Result<(), StoreError> {
    let (lo, hi) = index_paths::prefix_range(&format!("{rel}/"));
    conn.prepare_cached("DELETE FROM dirs WHERE rel = ?1 OR (rel >= ?2 AND rel < ?3)")?
        .execute(params![rel, lo, hi])?;
    Ok(())
}

/// Replaces all records with those of a full walk and marks the tree as recorded.
pub(crate) fn replace_all(
    conn: &Connection,
    dirs: &[(String, DirStamp)],
) -> Result<(), StoreError> {
    conn.execute("DELETE FROM dirs", [])?;
    for (rel, stamp) in dirs {
        put(conn, rel, stamp)?;
    }
    meta::set(conn, COMPLETE_KEY, "1")
}

/// Whether a full walk recorded the tree (older indexes and fresh ones have not).
pub(crate) fn is_complete(conn: &Connection) -> Result<bool, StoreError> {
    Ok(meta::get(conn, COMPLETE_KEY)?.as_deref() == Some("1"))
}

/// After this process created `rel_dir` (or may have): records it and its ancestors as
/// unknown unless already recorded, so the next open lists them, and notices if they vanish.
/// Their mtimes changed anyway; this only makes sure a directory created by us is known.
pub(crate) fn note_own_dir(conn: &Connection, rel_dir: &str) -> Result<(), StoreError> {
    let mut end = 0;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO dirs (rel, mtime_ns, ino, seen_ns) VALUES (?1, 0, 0, 0)",
    )?;
    while end < rel_dir.len() {
        end = rel_dir[end..].find('/').map_or(rel_dir.len(), |i| end + i);
        insert.execute([&rel_dir[..end]])?;
        end += 1;
    }
    Ok(())
}
