//! `[thread_store]`: the store backend, its connection and the turn lease ttl.

use codex_config::settings_from_str;
use codex_store::{BackendKind, DEFAULT_LEASE_TTL};
use std::time::Duration;

#[test]
fn the_section_is_typed_with_defaults() {
    let s = settings_from_str(
        r#"
        [thread_store]
        backend = "postgres"
        url = "postgres://codex@db.internal/codex"
        pool_size = 4
        timeout_ms = 2000
        lease_ttl_ms = 1500
        "#,
    )
    .unwrap();
    let store = &s.thread_store;
    assert_eq!(store.backend, BackendKind::Postgres);
    assert_eq!(
        store.url.as_deref(),
        Some("postgres://codex@db.internal/codex")
    );
    assert_eq!(store.pool_size, Some(4));
    assert_eq!(store.timeout_ms, Some(2000));
    assert_eq!(store.lease_ttl(), Duration::from_millis(1500));

    let defaults = settings_from_str("").unwrap().thread_store;
    assert_eq!(defaults.backend, BackendKind::Embedded);
    assert_eq!(defaults.url, None);
    assert_eq!(defaults.lease_ttl(), DEFAULT_LEASE_TTL);
}

#[test]
fn a_bad_value_names_its_line_and_key() {
    let err = settings_from_str("model = \"m\"\n[thread_store]\nbackend = \"mysql\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config.toml:3: thread_store.backend:") && err.contains("mysql"),
        "{err}"
    );
    let err = settings_from_str("[thread_store]\nlease_ttl_ms = \"soon\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("config.toml:2: thread_store.lease_ttl_ms:"),
        "{err}"
    );
}
