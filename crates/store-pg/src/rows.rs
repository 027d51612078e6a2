//! Decoding database rows into the store's types.

use std::path::PathBuf;

use codex_store::{RolloutLine, ThreadRecord};
use serde_json::Value;
use tokio_postgres::Row;

/// Columns of a `ThreadRecord`, in the order `record` reads them.
pub(crate) const RECORD_COLUMNS: &str = "id, archived, created_at, updated_at, cwd, \
     model_provider, model, source, cli_version, originator, name, preview, forked_from_id";

pub(crate) fn record(row: &Row) -> Result<ThreadRecord, tokio_postgres::Error> {
    let source: String = row.try_get(7)?;
    let cwd: String = row.try_get(4)?;
    Ok(ThreadRecord {
        id: row.try_get(0)?,
        // Lines live in the database; there is no rollout file.
        path: PathBuf::new(),
        archived: row.try_get(1)?,
        created_at: row.try_get(2)?,
        updated_at: row.try_get(3)?,
        cwd: PathBuf::from(cwd),
        model_provider: row.try_get(5)?,
        model: row.try_get(6)?,
        // Written by us from a JSON value; fall back to the text rather than fail.
        source: serde_json::from_str(&source).unwrap_or(Value::String(source)),
        cli_version: row.try_get(8)?,
        originator: row.try_get(9)?,
        name: row.try_get(10)?,
        preview: row.try_get(11)?,
        forked_from_id: row.try_get(12)?,
    })
}

/// A line from `SELECT ts, ordinal, kind, payload`.
pub(crate) fn line(row: &Row) -> Result<RolloutLine, tokio_postgres::Error> {
    let ordinal: i64 = row.try_get(1)?;
    let payload: String = row.try_get(3)?;
    Ok(RolloutLine {
        timestamp: row.try_get(0)?,
        ordinal: u64::try_from(ordinal).ok(),
        kind: row.try_get(2)?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
    })
}
