//! `PgStore`: the `ThreadStore` operations as SQL. Each write is one statement (or one
//! short transaction) that also bumps the shared write sequence, whose single row is locked
//! until commit: sequence numbers therefore commit in order, and a listing that read
//! sequence `n` knows every row with `seq <= n` it will ever see is already visible. Every
//! operation, including waiting for a connection, is bounded by the pool's timeout.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use codex_store::{
    digest_entries, format_timestamp, session_meta_payload, Lease, LinePage, LineVisitor, ListPage,
    ListQuery, LoadedThread, NewThread, RolloutEntry, RolloutLine, ScanEnd, SortKey, StoreError,
    StoreFuture, ThreadRecord, ThreadStore,
};
use serde_json::json;
use tokio::sync::OnceCell;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;

use crate::cursor::{self, Cursor};
use crate::error::db_error;
use crate::migrate;
use crate::pool::{Pool, Pooled};
use crate::rows::{self, RECORD_COLUMNS};

const DEFAULT_LIMIT: u32 = 25;
const MAX_LIMIT: u32 = 200;
/// Lines per query when scanning a thread.
const SCAN_PAGE: i64 = 2_000;

pub struct PgStore {
    pool: Pool,
    migrated: OnceCell<()>,
    /// The server this store writes for: its `append` is refused while another owner holds
    /// the thread's unexpired lease (a server that lost its lease cannot write over the new
    /// owner's turn). `None` checks nothing.
    lease_owner: Option<String>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// Maps the constraint errors callers act on; the rest keep the driver error.
fn write_error(context: &str, id: &str, e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::UNIQUE_VIOLATION => StoreError::AlreadyExists(id.to_string()),
        Some(c) if *c == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound(id.to_string()),
        _ => db_error(context, e),
    }
}

fn now_secs() -> i64 {
    Utc::now().timestamp()
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The lines of a new thread: its `session_meta`, then `history` (timestamps kept).
fn new_thread_lines(
    new: &NewThread,
    history: &[RolloutLine],
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let now = format_timestamp(Utc::now());
    let meta = session_meta_payload(new);
    let mut ts = vec![now.clone()];
    let mut kinds = vec!["session_meta".to_string()];
    let mut payloads = vec![meta.to_string()];
    for l in history {
        ts.push(if l.timestamp.is_empty() {
            now.clone()
        } else {
            l.timestamp.clone()
        });
        kinds.push(l.kind.clone());
        payloads.push(l.payload.to_string());
    }
    (ts, kinds, payloads)
}

impl PgStore {
    /// A store for `url` (`postgres://user@host:port/db`); connects on first use.
    ///
    /// # Errors
    /// `InvalidArgument` for a URL the driver cannot parse.
    pub fn new(url: &str, pool_size: usize, timeout: Duration) -> Result<PgStore, StoreError> {
        let config = url.parse::<tokio_postgres::Config>().map_err(|e| {
            StoreError::InvalidArgument(format!("thread_store.url is not a PostgreSQL URL: {e}"))
        })?;
        Ok(PgStore {
            pool: Pool::new(config, pool_size.max(1), timeout),
            migrated: OnceCell::new(),
            lease_owner: None,
        })
    }

    /// This store writes for lease owner `owner`: `append` fails with `StoreError::Leased`
    /// while another owner holds the thread's unexpired lease.
    pub fn with_lease_owner(mut self, owner: impl Into<String>) -> PgStore {
        self.lease_owner = Some(owner.into());
        self
    }

    /// A connection, with the schema migrated (once per store).
    async fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        let mut conn = self.pool.get().await?;
        let client = &mut *conn;
        self.migrated
            .get_or_try_init(|| migrate::migrate(client))
            .await?;
        Ok(conn)
    }

    /// Runs `op` bounded by the store's timeout.
    fn bounded<'a, T: Send + 'a>(
        &'a self,
        op: impl Future<Output = Result<T, StoreError>> + Send + 'a,
    ) -> StoreFuture<'a, T> {
        let limit = self.pool.timeout();
        Box::pin(async move {
            tokio::time::timeout(limit, op).await.map_err(|_| {
                StoreError::Unavailable(format!("database operation took longer than {limit:?}"))
            })?
        })
    }

    async fn get_record(&self, id: &str) -> Result<Option<ThreadRecord>, StoreError> {
        let conn = self.conn().await?;
        let row = conn
            .query_opt(
                &format!("SELECT {RECORD_COLUMNS} FROM codex_threads WHERE id = $1"),
                &[&id],
            )
            .await
            .map_err(|e| db_error("read thread", e))?;
        row.map(|r| rows::record(&r).map_err(|e| db_error("decode thread", e)))
            .transpose()
    }

    async fn require(&self, id: &str) -> Result<ThreadRecord, StoreError> {
        self.get_record(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// Inserts the thread row and all its lines in one statement.
    async fn insert_thread(
        &self,
        new: &NewThread,
        history: &[RolloutLine],
        name: Option<&str>,
    ) -> Result<ThreadRecord, StoreError> {
        if new.id.is_empty() {
            return Err(StoreError::InvalidArgument(
                "thread id must not be empty".into(),
            ));
        }
        let (ts, kinds, payloads) = new_thread_lines(new, history);
        let digest = digest_entries(history.iter().map(|l| (l.kind.as_str(), &l.payload)));
        let model = digest.model.or_else(|| new.model.clone());
        let name = digest.name.as_deref().or(name);
        let count = i64::try_from(kinds.len()).unwrap_or(i64::MAX);
        let source = new.source.to_string();
        let cwd = new.cwd.to_string_lossy().into_owned();
        let created_at = new.created_at.timestamp();
        let updated_at = now_secs();
        let preview = digest.preview.unwrap_or_default();
        let conn = self.conn().await?;
        let params: [&(dyn ToSql + Sync); 16] = [
            &new.id,
            &created_at,
            &updated_at,
            &cwd,
            &new.model_provider,
            &model,
            &source,
            &new.cli_version,
            &new.originator,
            &new.forked_from_id,
            &preview,
            &name,
            &count,
            &ts,
            &kinds,
            &payloads,
        ];
        // One round trip: the row and its lines are inserted and the record returned (a
        // data-modifying CTE runs whether or not the final SELECT reads it).
        let inserted = conn
            .query_opt(
                &format!(
                    "WITH s AS (UPDATE codex_write_seq SET n = n + 1 RETURNING n),
                     t AS (
                         INSERT INTO codex_threads (id, created_at, updated_at, cwd,
                             model_provider, model, source, cli_version, originator,
                             forked_from_id, preview, name, next_ordinal, seq)
                         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, s.n
                         FROM s
                         ON CONFLICT (id) DO NOTHING
                         RETURNING *),
                     l AS (
                         INSERT INTO codex_thread_lines (thread_id, ordinal, ts, kind, payload)
                         SELECT t.id, l.i - 1, l.ts, l.kind, l.payload
                         FROM t, unnest($14::text[], $15::text[], $16::text[])
                             WITH ORDINALITY AS l(ts, kind, payload, i))
                     SELECT {RECORD_COLUMNS} FROM t"
                ),
                &params,
            )
            .await
            .map_err(|e| write_error("create thread", &new.id, e))?;
        match inserted {
            Some(row) => rows::record(&row).map_err(|e| db_error("decode thread", e)),
            None => Err(StoreError::AlreadyExists(new.id.clone())),
        }
    }

    /// Appends `entries`; with `owner`, only while no other owner holds an unexpired lease
    /// on the thread (checked in the same statement, on the database's clock).
    async fn append_lines(
        &self,
        id: &str,
        entries: &[RolloutEntry],
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let conn = self.conn().await?;
        if entries.is_empty() {
            let found = conn
                .query_opt("SELECT 1 FROM codex_threads WHERE id = $1", &[&id])
                .await
                .map_err(|e| db_error("read thread", e))?;
            return found
                .map(|_| ())
                .ok_or_else(|| StoreError::NotFound(id.to_string()));
        }
        let digest = digest_entries(entries.iter().map(|e| (e.kind.as_str(), &e.payload)));
        let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
        let ts = format_timestamp(Utc::now());
        let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
        let payloads: Vec<String> = entries.iter().map(|e| e.payload.to_string()).collect();
        let updated_at = now_secs();
        let written = conn
            .query(
                "WITH s AS (UPDATE codex_write_seq SET n = n + 1 RETURNING n),
                 t AS (
                     UPDATE codex_threads SET
                         next_ordinal = next_ordinal + $2,
                         updated_at = $3,
                         seq = (SELECT n FROM s),
                         model = COALESCE($4, model),
                         preview = CASE WHEN preview = '' AND $5::text IS NOT NULL
                             THEN $5 ELSE preview END,
                         name = COALESCE($6, name)
                     WHERE id = $1 AND ($10::text IS NULL OR NOT EXISTS (
                         SELECT 1 FROM codex_thread_leases l WHERE l.thread_id = $1
                             AND l.owner <> $10 AND l.expires_at > now()))
                     RETURNING next_ordinal - $2 AS base)
                 INSERT INTO codex_thread_lines (thread_id, ordinal, ts, kind, payload)
                 SELECT $1, t.base + l.i - 1, $7, l.kind, l.payload
                 FROM t, unnest($8::text[], $9::text[]) WITH ORDINALITY AS l(kind, payload, i)
                 RETURNING ordinal",
                &[
                    &id,
                    &count,
                    &updated_at,
                    &digest.model,
                    &digest.preview,
                    &digest.name,
                    &ts,
                    &kinds,
                    &payloads,
                    &owner,
                ],
            )
            .await
            .map_err(|e| write_error("append", id, e))?;
        if !written.is_empty() {
            return Ok(());
        }
        // Nothing written: the thread is unknown, or another owner holds its lease.
        let held = match owner {
            Some(owner) => conn
                .query_opt(
                    "SELECT owner, (extract(epoch FROM expires_at) * 1000)::bigint
                     FROM codex_thread_leases
                     WHERE thread_id = $1 AND owner <> $2 AND expires_at > now()",
                    &[&id, &owner],
                )
                .await
                .map_err(|e| db_error("read lease", e))?,
            None => None,
        };
        Err(match held {
            Some(held) => StoreError::Leased {
                thread_id: id.to_string(),
                owner: held.get(0),
                expires_at_ms: held.get(1),
            },
            None => StoreError::NotFound(id.to_string()),
        })
    }

    /// Up to `limit` lines from ordinal `from` on.
    async fn lines(&self, id: &str, from: i64, limit: i64) -> Result<Vec<RolloutLine>, StoreError> {
        self.lines_in(id, from, i64::MAX, limit).await
    }

    /// The lines with ordinals in `[from, to)`.
    async fn lines_between(
        &self,
        id: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<RolloutLine>, StoreError> {
        self.lines_in(id, from, to, i64::MAX).await
    }

    /// Up to `limit` lines with ordinals in `[from, to)`, in order.
    async fn lines_in(
        &self,
        id: &str,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<RolloutLine>, StoreError> {
        let conn = self.conn().await?;
        let found = conn
            .query(
                "SELECT ts, ordinal, kind, payload FROM codex_thread_lines
                 WHERE thread_id = $1 AND ordinal >= $2 AND ordinal < $3
                 ORDER BY ordinal LIMIT $4",
                &[&id, &from, &to, &limit],
            )
            .await
            .map_err(|e| db_error("read lines", e))?;
        found
            .iter()
            .map(|r| rows::line(r).map_err(|e| db_error("decode line", e)))
            .collect()
    }

    async fn line_count(&self, id: &str) -> Result<i64, StoreError> {
        let conn = self.conn().await?;
        let row = conn
            .query_one(
                "SELECT coalesce(max(ordinal) + 1, 0) FROM codex_thread_lines WHERE thread_id = $1",
                &[&id],
            )
            .await
            .map_err(|e| db_error("count lines", e))?;
        Ok(row.get(0))
    }

    /// Feeds the lines from ordinal `from` on to `visit` as their JSON text, a page at a time
    /// (positions are ordinals).
    async fn scan(
        &self,
        id: &str,
        from: u64,
        mut visit: LineVisitor,
    ) -> Result<ScanEnd, StoreError> {
        self.bounded(self.require(id)).await?;
        let mut end = from;
        let mut text = Vec::new();
        loop {
            let start = i64::try_from(end).unwrap_or(i64::MAX);
            let page = self.bounded(self.lines(id, start, SCAN_PAGE)).await?;
            let full = page.len() as i64 == SCAN_PAGE;
            for line in &page {
                // Rows always carry their ordinal; `end` is where the previous one ended.
                let ordinal = line.ordinal.unwrap_or(end);
                text.clear();
                serde_json::to_writer(&mut text, line).map_err(|e| StoreError::Backend {
                    context: format!("encode a line of thread {id}"),
                    source: Box::new(e),
                })?;
                visit(ordinal, ordinal + 1, &text);
                end = ordinal + 1;
            }
            if !full {
                break;
            }
        }
        if end == from && from > 0 {
            // Nothing at `from`: either nothing new, or the thread is shorter than that.
            let count = self.bounded(self.line_count(id)).await?;
            if u64::try_from(count).unwrap_or(0) < from {
                return Ok(ScanEnd {
                    end: u64::try_from(count).unwrap_or(0),
                    shrunk: true,
                });
            }
        }
        Ok(ScanEnd { end, shrunk: false })
    }

    async fn load_thread(&self, id: &str) -> Result<LoadedThread, StoreError> {
        let record = self.require(id).await?;
        let lines = self.lines(id, 0, i64::MAX).await?;
        Ok(LoadedThread {
            record,
            lines,
            skipped: Vec::new(),
        })
    }

    async fn list_page(&self, q: &ListQuery) -> Result<ListPage, StoreError> {
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
        let after = q
            .cursor
            .as_deref()
            .map(|c| cursor::decode(q.sort_key, c))
            .transpose()?;
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(q.archived)];
        let mut sql = format!(
            "SELECT {RECORD_COLUMNS}, {column}, (SELECT n FROM codex_write_seq)
             FROM codex_threads WHERE archived = $1"
        );
        let next_param = |params: &mut Vec<Box<dyn ToSql + Sync + Send>>,
                          v: Box<dyn ToSql + Sync + Send>| {
            params.push(v);
            format!("${}", params.len())
        };
        if let Some(c) = &after {
            let (v, i) = (
                next_param(&mut params, Box::new(c.value)),
                next_param(&mut params, Box::new(c.id.clone())),
            );
            sql.push_str(&format!(" AND ({column}, id) {cmp} ({v}, {i})"));
            if q.sort_key == SortKey::UpdatedAt {
                // Rows written after the first page moved; they were listed where they were
                // or will be by the next walk, never twice in this one.
                let s = next_param(&mut params, Box::new(c.as_of));
                sql.push_str(&format!(" AND seq <= {s}"));
            }
        }
        if !q.cwds.is_empty() {
            let cwds: Vec<String> = q
                .cwds
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let p = next_param(&mut params, Box::new(cwds));
            sql.push_str(&format!(" AND cwd = ANY({p})"));
        }
        if !q.model_providers.is_empty() {
            let p = next_param(&mut params, Box::new(q.model_providers.clone()));
            sql.push_str(&format!(" AND model_provider = ANY({p})"));
        }
        if let Some(term) = q.search_term.as_deref().filter(|t| !t.is_empty()) {
            let p = next_param(&mut params, Box::new(term.to_lowercase()));
            sql.push_str(&format!(
                " AND (strpos(lower(COALESCE(name, '')), {p}) > 0 OR strpos(lower(preview), {p}) > 0)"
            ));
        }
        let p = next_param(&mut params, Box::new(i64::from(limit) + 1));
        sql.push_str(&format!(" ORDER BY {column} {dir}, id {dir} LIMIT {p}"));
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let conn = self.conn().await?;
        let found = conn
            .query(&sql, &refs)
            .await
            .map_err(|e| db_error("list threads", e))?;
        let has_more = found.len() > limit as usize;
        let mut data = Vec::with_capacity(limit as usize);
        let mut last = None;
        for row in found.iter().take(limit as usize) {
            data.push(rows::record(row).map_err(|e| db_error("decode thread", e))?);
            let value: i64 = row.try_get(13).map_err(|e| db_error("decode thread", e))?;
            let seq: i64 = row.try_get(14).map_err(|e| db_error("decode thread", e))?;
            last = Some((value, seq));
        }
        let next_cursor = match (has_more, data.last(), last) {
            (true, Some(record), Some((value, seq))) => Some(cursor::encode(
                q.sort_key,
                &Cursor {
                    value,
                    id: record.id.clone(),
                    // A walk stays at the sequence of its first page.
                    as_of: after.as_ref().map_or(seq, |c| c.as_of),
                },
            )),
            _ => None,
        };
        Ok(ListPage { data, next_cursor })
    }

    async fn set_archived(&self, id: &str, archived: bool) -> Result<ThreadRecord, StoreError> {
        let conn = self.conn().await?;
        // Only a real change is a write: a no-op must not move the row out of a running
        // `updated_at` walk (which leaves out rows written after its first page).
        let row = conn
            .query_opt(
                &format!(
                    "WITH s AS (UPDATE codex_write_seq SET n = n + 1
                         WHERE EXISTS (SELECT 1 FROM codex_threads WHERE id = $1 AND archived <> $2)
                         RETURNING n)
                     UPDATE codex_threads SET archived = $2, seq = (SELECT n FROM s)
                     WHERE id = $1 AND archived <> $2 RETURNING {RECORD_COLUMNS}"
                ),
                &[&id, &archived],
            )
            .await
            .map_err(|e| db_error("archive", e))?;
        match row {
            Some(row) => rows::record(&row).map_err(|e| db_error("decode thread", e)),
            None => {
                drop(conn);
                self.require(id).await
            }
        }
    }

    async fn lease(&self, id: &str, owner: &str, ttl: Duration) -> Result<Lease, StoreError> {
        let mut conn = self.conn().await?;
        let tx = conn
            .transaction()
            .await
            .map_err(|e| db_error("begin lease", e))?;
        let previous: Option<String> = tx
            .query_opt(
                "SELECT owner FROM codex_thread_leases WHERE thread_id = $1 FOR UPDATE",
                &[&id],
            )
            .await
            .map_err(|e| db_error("read lease", e))?
            .map(|r| r.get(0));
        // The database's clock decides expiry, so servers with skewed clocks agree.
        let taken = tx
            .query_opt(
                "INSERT INTO codex_thread_leases (thread_id, owner, expires_at)
                 VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
                 ON CONFLICT (thread_id) DO UPDATE
                     SET owner = excluded.owner, expires_at = excluded.expires_at
                     WHERE codex_thread_leases.owner = excluded.owner
                         OR codex_thread_leases.expires_at <= now()
                 RETURNING (extract(epoch FROM expires_at) * 1000)::bigint",
                &[&id, &owner, &(ms(ttl) as f64)],
            )
            .await
            .map_err(|e| write_error("take lease", id, e))?;
        let Some(taken) = taken else {
            let held = tx
                .query_one(
                    "SELECT owner, (extract(epoch FROM expires_at) * 1000)::bigint
                     FROM codex_thread_leases WHERE thread_id = $1",
                    &[&id],
                )
                .await
                .map_err(|e| db_error("read lease", e))?;
            return Err(StoreError::Leased {
                thread_id: id.to_string(),
                owner: held.get(0),
                expires_at_ms: held.get(1),
            });
        };
        tx.commit().await.map_err(|e| db_error("commit lease", e))?;
        Ok(Lease {
            thread_id: id.to_string(),
            owner: owner.to_string(),
            expires_at_ms: taken.get(0),
            taken_over_from: previous.filter(|p| p != owner),
        })
    }
}

impl ThreadStore for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn ready(&self) -> StoreFuture<'_, ()> {
        self.bounded(async move { self.conn().await.map(|_| ()) })
    }

    fn create_thread(&self, new: NewThread) -> StoreFuture<'_, ThreadRecord> {
        self.bounded(async move { self.insert_thread(&new, &[], None).await })
    }

    fn fork<'a>(&'a self, source_id: &'a str, mut new: NewThread) -> StoreFuture<'a, ThreadRecord> {
        self.bounded(async move {
            let source = self.load_thread(source_id).await?;
            new.forked_from_id = Some(source_id.to_string());
            let history: Vec<RolloutLine> = source
                .lines
                .into_iter()
                .filter(|l| l.kind != "session_meta")
                .collect();
            self.insert_thread(&new, &history, source.record.name.as_deref())
                .await
        })
    }

    fn append<'a>(&'a self, thread_id: &'a str, entries: Vec<RolloutEntry>) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            self.append_lines(thread_id, &entries, self.lease_owner.as_deref())
                .await
        })
    }

    fn flush<'a>(&'a self, _thread_id: &'a str) -> StoreFuture<'a, ()> {
        // Every append already committed its metadata.
        Box::pin(async { Ok(()) })
    }

    fn sync<'a>(&'a self, _thread_id: &'a str) -> StoreFuture<'a, ()> {
        // A committed append is as durable as the database makes commits.
        Box::pin(async { Ok(()) })
    }

    fn load<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, LoadedThread> {
        self.bounded(self.load_thread(thread_id))
    }

    fn read_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, LinePage> {
        self.bounded(async move {
            self.require(thread_id).await?;
            let from = i64::try_from(from).unwrap_or(i64::MAX);
            let want = i64::try_from(limit).unwrap_or(i64::MAX - 1);
            let mut lines = self.lines(thread_id, from, want.saturating_add(1)).await?;
            let more = lines.len() > limit;
            lines.truncate(limit);
            let next = more.then(|| u64::try_from(from).unwrap_or(0) + lines.len() as u64);
            Ok(LinePage { lines, next })
        })
    }

    fn scan_lines<'a>(
        &'a self,
        thread_id: &'a str,
        from: u64,
        visit: LineVisitor,
    ) -> StoreFuture<'a, ScanEnd> {
        // Not bounded by the per-operation timeout as a whole: a long thread's first scan
        // takes many pages, each bounded by its query.
        Box::pin(self.scan(thread_id, from, visit))
    }

    fn read_spans<'a>(
        &'a self,
        thread_id: &'a str,
        spans: Vec<(u64, u64)>,
    ) -> StoreFuture<'a, Vec<Vec<RolloutLine>>> {
        self.bounded(async move {
            self.require(thread_id).await?;
            let mut out = Vec::with_capacity(spans.len());
            for (from, to) in spans {
                let from = i64::try_from(from).unwrap_or(i64::MAX);
                let to = i64::try_from(to).unwrap_or(i64::MAX);
                out.push(self.lines_between(thread_id, from, to).await?);
            }
            Ok(out)
        })
    }

    fn get<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, Option<ThreadRecord>> {
        self.bounded(self.get_record(thread_id))
    }

    fn list(&self, query: ListQuery) -> StoreFuture<'_, ListPage> {
        self.bounded(async move { self.list_page(&query).await })
    }

    fn archive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord> {
        self.bounded(self.set_archived(thread_id, true))
    }

    fn unarchive<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ThreadRecord> {
        self.bounded(self.set_archived(thread_id, false))
    }

    fn set_name<'a>(&'a self, thread_id: &'a str, name: &'a str) -> StoreFuture<'a, ThreadRecord> {
        self.bounded(async move {
            let event = RolloutEntry::new(
                "event_msg",
                json!({"type": "thread_name_updated", "thread_id": thread_id, "thread_name": name}),
            );
            // A rename is not part of a turn: allowed while another server runs one.
            self.append_lines(thread_id, &[event], None).await?;
            self.require(thread_id).await
        })
    }

    fn delete<'a>(&'a self, thread_id: &'a str) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            let conn = self.conn().await?;
            let n = conn
                .execute("DELETE FROM codex_threads WHERE id = $1", &[&thread_id])
                .await
                .map_err(|e| db_error("delete thread", e))?;
            if n == 0 {
                return Err(StoreError::NotFound(thread_id.to_string()));
            }
            Ok(())
        })
    }

    fn acquire_lease<'a>(
        &'a self,
        thread_id: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, Lease> {
        self.bounded(self.lease(thread_id, owner, ttl))
    }

    fn release_lease<'a>(&'a self, thread_id: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        self.bounded(async move {
            let conn = self.conn().await?;
            // The row stays, naming the last owner (see `Lease::taken_over_from`).
            conn.execute(
                "UPDATE codex_thread_leases SET expires_at = LEAST(expires_at, now())
                 WHERE thread_id = $1 AND owner = $2",
                &[&thread_id, &owner],
            )
            .await
            .map_err(|e| db_error("release lease", e))?;
            Ok(())
        })
    }
}
