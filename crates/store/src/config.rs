//! `[thread_store]` in `config.toml`: which backend keeps the threads.
//!
//! ```toml
//! [thread_store]
//! backend = "postgres"                        # default "embedded" ($CODEX_HOME files)
//! url = "postgres://codex@db.internal/codex"  # required for postgres
//! pool_size = 8                               # connections per server (default 8)
//! timeout_ms = 10000                          # per database operation (default 10 s)
//! lease_ttl_ms = 30000                        # a running turn's lease (default 30 s)
//! ```
//!
//! The lease ttl bounds how long a thread stays blocked after the server running its turn
//! died: another server takes the thread over once the lease has expired. A live server
//! renews its leases every third of the ttl.

use std::time::Duration;

use serde::Deserialize;

/// How long a turn's lease lasts without renewal when the configuration does not say.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);
/// The shortest lease accepted: renewals every third of it must still fit a slow round trip.
pub const MIN_LEASE_TTL: Duration = Duration::from_millis(300);

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
    pub lease_ttl_ms: Option<u64>,
}

impl ThreadStoreConfig {
    /// The configured lease ttl, at least [`MIN_LEASE_TTL`].
    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl_ms
            .map_or(DEFAULT_LEASE_TTL, Duration::from_millis)
            .max(MIN_LEASE_TTL)
    }
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
        assert_eq!(c.lease_ttl(), DEFAULT_LEASE_TTL);
        let d: ThreadStoreConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(d.backend, BackendKind::Embedded);
        assert!(serde_json::from_str::<ThreadStoreConfig>(r#"{"backend": "mysql"}"#).is_err());
        let short: ThreadStoreConfig = serde_json::from_str(r#"{"lease_ttl_ms": 1}"#).unwrap();
        assert_eq!(short.lease_ttl(), MIN_LEASE_TTL);
        let set: ThreadStoreConfig = serde_json::from_str(r#"{"lease_ttl_ms": 2000}"#).unwrap();
        assert_eq!(set.lease_ttl(), Duration::from_millis(2000));
    }
}
