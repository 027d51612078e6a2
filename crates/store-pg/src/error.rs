//! How a PostgreSQL failure becomes a store error.

use codex_store::StoreError;

/// Wraps a driver error with what was being done.
pub(crate) fn db_error(context: &str, e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend {
        context: format!("postgres: {context}"),
        source: Box::new(e),
    }
}
