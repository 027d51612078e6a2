//! `[thread_store]` in `config.toml`: which backend keeps the threads.
//!
//! ```toml
//! [thread_store]
//! backend = "postgres"                        # default "embedded" ($CODEX_HOME files)
//! url = "postgres://codex@db.internal/codex"  # required for postgres
//! pool_size = 8                               # connections per server (default 8)
//! timeout_ms = 10000                          # per database operation (default 10 s)
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Rollout files plus the SQLite index under `$CODEX_HOME`.
    #[default]
    Embedded,
    /// PostgreSQL shared by every server pointed at it.
    Postgres,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ThreadStoreConfig {
    pub backend: BackendKind,
    pub url: Option<String>,
    pub pool_size: Option<u32>,
    pub timeout_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_defaults() {
        let c: ThreadStoreConfig =
            serde_json::from_str(r#"{"backend": "postgres", "url": "postgres://h/db"}"#).unwrap();
        assert_eq!(c.backend, BackendKind::Postgres);
        assert_eq!(c.url.as_deref(), Some("postgres://h/db"));
        assert_eq!(c.pool_size, None);
        let d: ThreadStoreConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(d.backend, BackendKind::Embedded);
        assert!(serde_json::from_str::<ThreadStoreConfig>(r#"{"backend": "mysql"}"#).is_err());
    }
}
