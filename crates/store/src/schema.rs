//! Opening and migrating the SQLite index so that any number of processes can open one
//! `$CODEX_HOME` at the same moment (an editor and a CLI starting together).
//!
//! The index file is never deleted to change its schema: another process may hold it open,
//! and would go on writing to an unlinked file. Instead the check of `user_version` and the
//! creation (or replacement) of the tables happen inside one `BEGIN IMMEDIATE` transaction,
//! so exactly one opener creates the schema and the others find it done. Every connection
//! waits for locks (busy timeout) and starts its write transactions `IMMEDIATE` (a deferred
//! transaction that reads, then writes, fails at once instead of waiting when another
//! process wrote in between). What still fails with "busy" (switching to WAL needs a moment
//! alone with the file) is retried with backoff. Only a file that is not a database at all
//! is removed and created anew.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::error::StoreError;

/// Bumped whenever the schema changes; a mismatch replaces the tables (rebuilt from files).
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// How long one statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);
/// Attempts of a whole open that failed with "busy"/"locked" (backoff 5 ms doubling to 320 ms:
/// about 10 s in all, on top of the busy timeout of each attempt).
const OPEN_ATTEMPTS: u32 = 40;

const TABLES: &str = "
CREATE TABLE threads (
    id TEXT PRIMARY KEY NOT NULL,
    rel_path TEXT NOT NULL,
    archived INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    cwd TEXT NOT NULL,
    model_provider TEXT NOT NULL,
    model TEXT,
    source TEXT NOT NULL,
    cli_version TEXT NOT NULL,
    originator TEXT NOT NULL,
    forked_from_id TEXT,
    preview TEXT NOT NULL,
    preview_lc TEXT NOT NULL,
    event_name TEXT,
    event_name_at INTEGER,
    name TEXT,
    name_lc TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    file_mtime_ns INTEGER NOT NULL,
    next_ordinal INTEGER NOT NULL,
    -- Write sequence: bumped on every change of the row's file (see `index::list`).
    seq INTEGER NOT NULL
);
CREATE UNIQUE INDEX threads_by_path ON threads(rel_path);
CREATE INDEX threads_by_created ON threads(archived, created_at, id);
CREATE INDEX threads_by_updated ON threads(archived, updated_at, id);
-- Source of `threads.seq`; a counter (not MAX(seq)) so deleted rows never free a value.
CREATE TABLE write_seq (n INTEGER NOT NULL);
INSERT INTO write_seq (n) VALUES (0);
CREATE TABLE session_names (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE store_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
";

/// Tables added after version 2 without a version bump: created where missing.
const ADDED_TABLES: &str = "
CREATE TABLE IF NOT EXISTS dirs (
    rel TEXT PRIMARY KEY NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    seen_ns INTEGER NOT NULL
);
-- Per-thread turn leases (see `lease.rs`); not derived from the files, so a rebuild keeps them.
CREATE TABLE IF NOT EXISTS leases (
    thread_id TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
);
";

/// An open index and whether its tables were just created (the caller then indexes every file).
pub(crate) struct Opened {
    pub conn: Connection,
    pub fresh: bool,
}

/// Opens (creating or migrating as needed) the index at `path`, retrying while other
/// processes hold it. A file that is not a database is replaced.
pub(crate) fn open(path: &Path) -> Result<Opened, StoreError> {
    match retry_busy(|| open_once(path)) {
        Err(e) if is_not_a_database(&e) => {
            tracing::warn!(path = %path.display(), error = %e, "thread index is not a database; recreating it");
            remove_files(path)?;
            let mut opened = retry_busy(|| open_once(path))?;
            opened.fresh = true;
            Ok(opened)
        }
        other => Ok(other?),
    }
}

/// Replaces the tables of a working index with empty ones of the current schema, in one
/// transaction (other processes keep a valid file). Leases survive.
pub(crate) fn reset_in_place(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction()?;
    replace_tables(&tx)?;
    tx.commit()?;
    Ok(())
}

/// For a damaged file: closes `conn`, removes the files and opens a fresh index in its place.
pub(crate) fn recreate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    drop(std::mem::replace(conn, Connection::open_in_memory()?));
    remove_files(path)?;
    *conn = retry_busy(|| open_once(path))?.conn;
    Ok(())
}

/// Busy timeout and pragmas every connection of this store uses.
pub(crate) fn configure(conn: &mut Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    Ok(())
}

fn open_once(path: &Path) -> Result<Opened, rusqlite::Error> {
    let mut conn = Connection::open(path)?;
    configure(&mut conn)?;
    // WAL is recorded in the file, so only the first opener switches (which needs the file
    // to itself for a moment: may be "busy", retried by the caller).
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 32 MiB page cache: a cold rebuild of 100k rows is several times faster with it.
    conn.pragma_update(None, "cache_size", -32768)?;
    let tx = conn.transaction()?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let fresh = version != SCHEMA_VERSION;
    if fresh {
        if version != 0 {
            tracing::warn!(path = %path.display(), version, expected = SCHEMA_VERSION, "replacing thread index of another schema version");
        }
        replace_tables(&tx)?;
    } else {
        tx.execute_batch(ADDED_TABLES)?;
    }
    tx.commit()?;
    Ok(Opened { conn, fresh })
}

/// Drops every table but the leases and creates the current schema.
fn replace_tables(conn: &Connection) -> Result<(), rusqlite::Error> {
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> 'leases'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for name in names {
        conn.execute_batch(&format!("DROP TABLE \"{}\"", name.replace('"', "\"\"")))?;
    }
    conn.execute_batch(TABLES)?;
    conn.execute_batch(ADDED_TABLES)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// Whether an error says the file itself is damaged (as opposed to busy, full, ...).
pub(crate) fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
    )
}

fn is_not_a_database(e: &StoreError) -> bool {
    matches!(e, StoreError::Index(e) if is_damage(e))
}

/// Runs `f` until it succeeds or fails with something other than "busy"/"locked".
fn retry_busy<T>(mut f: impl FnMut() -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
    let mut delay = Duration::from_millis(5);
    let mut attempt = 1;
    loop {
        match f() {
            Err(e) if is_busy(&e) && attempt < OPEN_ATTEMPTS => {
                tracing::debug!(attempt, error = %e, "thread index busy; retrying the open");
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(320));
                attempt += 1;
            }
            other => return Ok(other?),
        }
    }
}

fn remove_files(path: &Path) -> Result<(), StoreError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::io(
                    format!("remove {}", Path::new(&p).display()),
                    e,
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_open_finds_the_schema_and_an_old_version_is_replaced_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let first = open(&path).unwrap();
        assert!(first.fresh);
        let second = open(&path).unwrap();
        assert!(!second.fresh);
        second
            .conn
            .execute(
                "INSERT INTO leases (thread_id, owner, expires_at_ms) VALUES ('t', 'o', 1)",
                [],
            )
            .unwrap();
        second.conn.pragma_update(None, "user_version", 1).unwrap();
        // The first connection stays usable across the replacement by another opener.
        let third = open(&path).unwrap();
        assert!(third.fresh);
        let n: i64 = first
            .conn
            .query_row("SELECT COUNT(*) FROM threads", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        let kept: i64 = third
            .conn
            .query_row("SELECT COUNT(*) FROM leases", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
    }
}
