//! Versioned schema migrations. Each server runs them on its first successful connection,
//! inside one transaction holding a transaction-level advisory lock, so servers starting
//! together apply each migration exactly once and never see a half-made schema.

use codex_store::StoreError;
use tokio_postgres::Client;

use crate::error::db_error;

/// Arbitrary constant naming this lock (ASCII "codexmig").
const MIGRATION_LOCK: i64 = 0x636f_6465_786d_6967;

/// `(version, SQL)`, applied in order; never edit one that has shipped, add the next.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    r#"
CREATE TABLE codex_threads (
    id TEXT COLLATE "C" PRIMARY KEY,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    cwd TEXT NOT NULL,
    model_provider TEXT NOT NULL,
    model TEXT,
    source TEXT NOT NULL,
    cli_version TEXT NOT NULL,
    originator TEXT NOT NULL,
    forked_from_id TEXT,
    preview TEXT NOT NULL DEFAULT '',
    name TEXT,
    next_ordinal BIGINT NOT NULL,
    -- Write sequence (see `codex_write_seq`): pins `updated_at` listings (store.rs `list`).
    seq BIGINT NOT NULL
);
CREATE INDEX codex_threads_by_created ON codex_threads (archived, created_at, id);
CREATE INDEX codex_threads_by_updated ON codex_threads (archived, updated_at, id);
CREATE TABLE codex_thread_lines (
    thread_id TEXT COLLATE "C" NOT NULL REFERENCES codex_threads (id) ON DELETE CASCADE,
    ordinal BIGINT NOT NULL,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- JSON text as written (jsonb would reorder keys).
    payload TEXT NOT NULL,
    PRIMARY KEY (thread_id, ordinal)
);
-- One row; every write bumps it in its own transaction, so sequence numbers commit in order.
CREATE TABLE codex_write_seq (n BIGINT NOT NULL);
INSERT INTO codex_write_seq (n) VALUES (0);
CREATE TABLE codex_thread_leases (
    thread_id TEXT COLLATE "C" PRIMARY KEY REFERENCES codex_threads (id) ON DELETE CASCADE,
    owner TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
"#,
)];

/// Brings the schema to the latest version.
pub(crate) async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client
        .transaction()
        .await
        .map_err(|e| db_error("begin migration", e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| db_error("migration lock", e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS codex_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )
    .await
    .map_err(|e| db_error("create migrations table", e))?;
    let current: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM codex_schema_migrations",
            &[],
        )
        .await
        .map_err(|e| db_error("read schema version", e))?
        .get(0);
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tracing::info!(version, "applying thread store migration");
        tx.batch_execute(sql)
            .await
            .map_err(|e| db_error(&format!("migration {version}"), e))?;
        tx.execute(
            "INSERT INTO codex_schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(|e| db_error("record migration", e))?;
    }
    tx.commit()
        .await
        .map_err(|e| db_error("commit migration", e))
}
