//! The SQLite index (`state_index.sqlite`; schema in `schema.rs`): integrity check, row upserts,
//! name resolution between the rollout and `session_index.jsonl`, and keyset-paginated listing.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::Value;

use crate::cursor;
use crate::error::StoreError;
use crate::layout;
use crate::session_index::Names;
use crate::summary::FileSummary;
use crate::types::{ListPage, ListQuery, SortKey, ThreadRecord};

const RECORD_COLUMNS: &str =
    "id, rel_path, archived, created_at, updated_at, cwd, model_provider, \
     model, source, cli_version, originator, name, preview, forked_from_id";

/// `PRAGMA quick_check`: `Some(reason)` when the index is damaged. It reads the whole file
/// (~60 ms at 100k threads), so `open` leaves it to the background thread.
pub(crate) fn integrity_problem(conn: &Connection) -> Result<Option<String>, StoreError> {
    let verdict: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
    Ok((verdict != "ok").then(|| format!("integrity check failed: {verdict}")))
}

/// Index row derived from a scanned (or freshly written) file.
pub(crate) struct Row<'a> {
    pub rel: &'a str,
    pub summary: &'a FileSummary,
    pub size: i64,
    pub mtime_ns: i64,
}

/// Inserts or replaces the row for the summary's thread id (and drops any other id that
/// claimed the same path, e.g. a file rewritten by another process).
pub(crate) fn upsert(conn: &Connection, row: &Row<'_>) -> Result<(), StoreError> {
    let meta = &row.summary.meta;
    let accum = &row.summary.accum;
    conn.prepare_cached("DELETE FROM threads WHERE rel_path = ?1 AND id <> ?2")?
        .execute(params![row.rel, meta.id])?;
    let preview = accum.preview.clone().unwrap_or_default();
    let model = accum.model.clone().or_else(|| meta.model.clone());
    let (event_name, event_at) = match &accum.event_name {
        Some((n, at)) => (Some(n.clone()), Some(*at)),
        None => (None, None),
    };
    conn.prepare_cached(
        "INSERT INTO threads (id, rel_path, archived, created_at, updated_at, cwd, model_provider,
             model, source, cli_version, originator, forked_from_id, preview, preview_lc,
             event_name, event_name_at, name, name_lc, file_size, file_mtime_ns, next_ordinal, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, NULL, '',
             ?17, ?18, ?19, ?20)
         ON CONFLICT(id) DO UPDATE SET rel_path = excluded.rel_path, archived = excluded.archived,
             created_at = excluded.created_at, updated_at = excluded.updated_at, cwd = excluded.cwd,
             model_provider = excluded.model_provider, model = excluded.model,
             source = excluded.source, cli_version = excluded.cli_version,
             originator = excluded.originator, forked_from_id = excluded.forked_from_id,
             preview = excluded.preview, preview_lc = excluded.preview_lc,
             event_name = excluded.event_name, event_name_at = excluded.event_name_at,
             file_size = excluded.file_size, file_mtime_ns = excluded.file_mtime_ns,
             next_ordinal = excluded.next_ordinal, seq = excluded.seq",
    )?
    .execute(params![
        meta.id,
        row.rel,
        layout::is_archived_rel(row.rel),
        meta.created_at,
        row.mtime_ns.div_euclid(1_000_000_000),
        meta.cwd.to_string_lossy(),
        meta.model_provider,
        model,
        serde_json::to_string(&meta.source)?,
        meta.cli_version,
        meta.originator,
        meta.forked_from_id,
        preview,
        preview.to_lowercase(),
        event_name,
        event_at,
        row.size,
        row.mtime_ns,
        i64::try_from(accum.next_ordinal()).unwrap_or(i64::MAX),
        next_seq(conn)?,
    ])?;
    refresh_name(conn, &meta.id)
}

/// Newest of the two name sources; the session index wins ties (it is written first by
/// `set_name`, the rollout event a moment later, and both carry the same name).
fn effective_name(event: Option<(String, i64)>, session: Option<(String, i64)>) -> Option<String> {
    match (event, session) {
        (Some((e, e_at)), Some((s, s_at))) => Some(if s_at >= e_at { s } else { e }),
        (Some((e, _)), None) => Some(e),
        (None, Some((s, _))) => Some(s),
        (None, None) => None,
    }
}

type NameSources = (Option<(String, i64)>, Option<(String, i64)>, Option<String>);

fn name_sources(row: &rusqlite::Row<'_>, offset: usize) -> Result<NameSources, rusqlite::Error> {
    let event: Option<String> = row.get(offset)?;
    let event_at: Option<i64> = row.get(offset + 1)?;
    let session: Option<String> = row.get(offset + 2)?;
    let session_at: Option<i64> = row.get(offset + 3)?;
    let current: Option<String> = row.get(offset + 4)?;
    Ok((
        event.map(|n| (n, event_at.unwrap_or(0))),
        session.map(|n| (n, session_at.unwrap_or(0))),
        current,
    ))
}

/// Recomputes `name` for one thread from its two sources.
pub(crate) fn refresh_name(conn: &Connection, id: &str) -> Result<(), StoreError> {
    let sources = conn
        .prepare_cached(
            "SELECT t.event_name, t.event_name_at, s.name, s.at_ms, t.name
             FROM threads t LEFT JOIN session_names s ON s.id = t.id WHERE t.id = ?1",
        )?
        .query_row([id], |r| name_sources(r, 0))
        .optional()?;
    if let Some((event, session, current)) = sources {
        let name = effective_name(event, session);
        if name != current {
            set_name_column(conn, id, name.as_deref())?;
        }
    }
    Ok(())
}

fn set_name_column(conn: &Connection, id: &str, name: Option<&str>) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE threads SET name = ?1, name_lc = ?2 WHERE id = ?3",
        params![name, name.map(str::to_lowercase).unwrap_or_default(), id],
    )?;
    Ok(())
}

/// Records one `session_index.jsonl` entry and re-resolves the thread's name.
pub(crate) fn put_session_name(
    conn: &Connection,
    id: &str,
    name: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO session_names (id, name, at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, at_ms = excluded.at_ms",
        params![id, name, at_ms],
    )?;
    refresh_name(conn, id)
}

/// Replaces all session-index names (the log changed on disk) and re-resolves every name.
pub(crate) fn reload_session_names(conn: &Connection, names: &Names) -> Result<(), StoreError> {
    conn.execute("DELETE FROM session_names", [])?;
    {
        let mut insert =
            conn.prepare("INSERT INTO session_names (id, name, at_ms) VALUES (?1, ?2, ?3)")?;
        for (id, (name, at)) in names {
            insert.execute(params![id, name, at])?;
        }
    }
    let mut changes = Vec::new();
    {
        let mut select = conn.prepare(
            "SELECT t.id, t.event_name, t.event_name_at, s.name, s.at_ms, t.name
             FROM threads t LEFT JOIN session_names s ON s.id = t.id",
        )?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let id: String = row.get(0)?;
            let (event, session, current) = name_sources(row, 1)?;
            let name = effective_name(event, session);
            if name != current {
                changes.push((id, name));
            }
        }
    }
    for (id, name) in changes {
        set_name_column(conn, &id, name.as_deref())?;
    }
    Ok(())
}

/// `rel_path -> (size, mtime_ns)` for every indexed file.
pub(crate) fn file_states(conn: &Connection) -> Result<HashMap<String, (i64, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT rel_path, file_size, file_mtime_ns FROM threads")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn delete_path(conn: &Connection, rel: &str) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM threads WHERE rel_path = ?1")?
        .execute([rel])?)
}

/// Where a thread's file is and what the index knows about its tail.
#[derive(Debug, Clone)]
pub(crate) struct FileState {
    pub rel: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub next_ordinal: u64,
}

pub(crate) fn file_state(conn: &Connection, id: &str) -> Result<Option<FileState>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT rel_path, file_size, file_mtime_ns, next_ordinal FROM threads WHERE id = ?1",
            [id],
            |r| {
                let next: i64 = r.get(3)?;
                Ok(FileState {
                    rel: r.get(0)?,
                    size: r.get(1)?,
                    mtime_ns: r.get(2)?,
                    next_ordinal: u64::try_from(next).unwrap_or(0),
                })
            },
        )
        .optional()?)
}

/// What one or more appends changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AppendUpdate {
    pub size: i64,
    pub mtime_ns: i64,
    pub next_ordinal: u64,
    /// First user message among the appended lines (kept only while the row has none).
    pub preview: Option<String>,
    pub event_name: Option<(String, i64)>,
    pub model: Option<String>,
}

impl AppendUpdate {
    /// The update of `self` followed by `later`: the file state and the latest name and
    /// model of `later`, the earliest preview.
    pub(crate) fn then(self, later: AppendUpdate) -> AppendUpdate {
        AppendUpdate {
            size: later.size,
            mtime_ns: later.mtime_ns,
            next_ordinal: later.next_ordinal,
            preview: self.preview.or(later.preview),
            event_name: later.event_name.or(self.event_name),
            model: later.model.or(self.model),
        }
    }
}

pub(crate) fn apply_append(
    conn: &Connection,
    id: &str,
    u: &AppendUpdate,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE threads SET updated_at = ?1, file_size = ?2, file_mtime_ns = ?3,
             next_ordinal = ?4, model = COALESCE(?5, model),
             seq = ?7 WHERE id = ?6",
        params![
            u.mtime_ns.div_euclid(1_000_000_000),
            u.size,
            u.mtime_ns,
            i64::try_from(u.next_ordinal).unwrap_or(i64::MAX),
            u.model,
            id,
            next_seq(conn)?,
        ],
    )?;
    if let Some(preview) = &u.preview {
        conn.execute(
            "UPDATE threads SET preview = ?1, preview_lc = ?2 WHERE id = ?3 AND preview = ''",
            params![preview, preview.to_lowercase(), id],
        )?;
    }
    if let Some((name, at)) = &u.event_name {
        conn.execute(
            "UPDATE threads SET event_name = ?1, event_name_at = ?2 WHERE id = ?3",
            params![name, at, id],
        )?;
        refresh_name(conn, id)?;
    }
    Ok(())
}

/// Forgets a deleted thread: its row, its session-index name and its lease.
pub(crate) fn delete_thread(conn: &mut Connection, id: &str) -> Result<usize, StoreError> {
    let tx = conn.transaction()?;
    let n = tx.execute("DELETE FROM threads WHERE id = ?1", [id])?;
    tx.execute("DELETE FROM session_names WHERE id = ?1", [id])?;
    tx.execute("DELETE FROM leases WHERE thread_id = ?1", [id])?;
    tx.commit()?;
    Ok(n)
}

/// Points a thread at a new location after archive/unarchive.
/// Returns the number of rows changed (0 when the thread has no row any more).
pub(crate) fn relocate(conn: &Connection, id: &str, rel: &str) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "UPDATE threads SET rel_path = ?1, archived = ?2 WHERE id = ?3",
        params![rel, layout::is_archived_rel(rel), id],
    )?)
}

fn to_record(home: &Path, r: &rusqlite::Row<'_>) -> Result<ThreadRecord, rusqlite::Error> {
    let rel: String = r.get(1)?;
    let cwd: String = r.get(5)?;
    let source: String = r.get(8)?;
    Ok(ThreadRecord {
        id: r.get(0)?,
        path: home.join(rel),
        archived: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        cwd: cwd.into(),
        model_provider: r.get(6)?,
        model: r.get(7)?,
        // Written by us from a serde_json::Value, so it parses; fall back rather than fail.
        source: serde_json::from_str(&source).unwrap_or(Value::String(source)),
        cli_version: r.get(9)?,
        originator: r.get(10)?,
        name: r.get(11)?,
        preview: r.get(12)?,
        forked_from_id: r.get(13)?,
    })
}

pub(crate) fn get(
    conn: &Connection,
    home: &Path,
    id: &str,
) -> Result<Option<ThreadRecord>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {RECORD_COLUMNS} FROM threads WHERE id = ?1"),
            [id],
            |r| to_record(home, r),
        )
        .optional()?)
}

pub(crate) const DEFAULT_LIMIT: u32 = 25;
pub(crate) const MAX_LIMIT: u32 = 200;

/// Keyset page over `(sort column, id)`; one row beyond the page tells whether more exist.
pub(crate) fn list(conn: &Connection, home: &Path, q: &ListQuery) -> Result<ListPage, StoreError> {
    use rusqlite::types::Value as Sql;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let column = match q.sort_key {
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
    };
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    let mut sql = format!("SELECT {RECORD_COLUMNS}, {column} FROM threads WHERE archived = ?");
    let mut args: Vec<Sql> = vec![Sql::Integer(i64::from(q.archived))];
    // `updated_at` moves on every write, so a row written between two page requests would
    // jump over the cursor (listed twice ascending, never descending). A listing therefore
    // stands at the write sequence of its first page: later pages leave out rows written
    // since. The sequence, unlike file times, cannot tie with or lag behind the listing.
    let mut as_of = None;
    if let Some(c) = &q.cursor {
        let c = cursor::decode(q.sort_key, c)?;
        sql.push_str(&format!(" AND ({column}, id) {cmp} (?, ?)"));
        args.push(Sql::Integer(c.value));
        args.push(Sql::Text(c.id));
        if let Some(seq) = c.as_of {
            sql.push_str(" AND seq <= ?");
            args.push(Sql::Integer(seq));
        }
        as_of = c.as_of;
    } else if q.sort_key == SortKey::UpdatedAt {
        as_of = Some(max_seq(conn)?);
    }
    if !q.cwds.is_empty() {
        sql.push_str(&format!(" AND cwd IN ({})", placeholders(q.cwds.len())));
        args.extend(
            q.cwds
                .iter()
                .map(|c| Sql::Text(c.to_string_lossy().into_owned())),
        );
    }
    if !q.model_providers.is_empty() {
        sql.push_str(&format!(
            " AND model_provider IN ({})",
            placeholders(q.model_providers.len())
        ));
        args.extend(q.model_providers.iter().cloned().map(Sql::Text));
    }
    if let Some(term) = q.search_term.as_deref().filter(|t| !t.is_empty()) {
        let term = term.to_lowercase();
        sql.push_str(" AND (instr(name_lc, ?) > 0 OR instr(preview_lc, ?) > 0)");
        args.push(Sql::Text(term.clone()));
        args.push(Sql::Text(term));
    }
    sql.push_str(&format!(" ORDER BY {column} {dir}, id {dir} LIMIT ?"));
    args.push(Sql::Integer(i64::from(limit) + 1));

    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut data = Vec::new();
    let mut last_value = 0i64;
    let mut has_more = false;
    while let Some(row) = rows.next()? {
        if data.len() == limit as usize {
            has_more = true;
            break;
        }
        last_value = row.get(14)?;
        data.push(to_record(home, row)?);
    }
    let next_cursor = match (has_more, data.last()) {
        (true, Some(last)) => Some(cursor::encode(q.sort_key, last_value, &last.id, as_of)),
        _ => None,
    };
    Ok(ListPage { data, next_cursor })
}

/// Latest write sequence handed out.
fn max_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT n FROM write_seq")?
        .query_row([], |r| r.get(0))?)
}

/// Bumps and returns the write sequence (for the row being written).
fn next_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE write_seq SET n = n + 1 RETURNING n")?
        .query_row([], |r| r.get(0))?)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn list_uses_the_sort_index() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::schema::open(&dir.path().join("db.sqlite"))
            .unwrap()
            .conn;
        for (column, index) in [
            ("created_at", "threads_by_created"),
            ("updated_at", "threads_by_updated"),
        ] {
            for (cmp, dir) in [("<", "DESC"), (">", "ASC")] {
                let sql = format!(
                    "EXPLAIN QUERY PLAN SELECT id FROM threads WHERE archived = 0 AND ({column}, id) {cmp} (1, 'x') ORDER BY {column} {dir}, id {dir} LIMIT 26"
                );
                let mut stmt = conn.prepare(&sql).unwrap();
                let plan: Vec<String> = stmt
                    .query_map([], |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let plan = plan.join("\n");
                assert!(plan.contains(index), "{plan}");
                assert!(!plan.contains("TEMP B-TREE"), "{plan}");
            }
        }
    }
}
