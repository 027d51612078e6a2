//! Test modules plus the per-test database helper.

mod conformance;
mod pagination_props;
mod scale;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use codex_store_pg::PgStore;

pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The server started by `scripts/with-postgres`.
pub fn server_url() -> String {
    std::env::var("CODEX_TEST_PG_URL").expect(
        "CODEX_TEST_PG_URL is not set: run these tests through scripts/with-postgres \
         (it starts a throwaway PostgreSQL)",
    )
}

/// A fresh, empty database on the test server; returns its URL.
pub async fn fresh_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = server_url();
    let name = format!(
        "codex_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) = tokio_postgres::connect(&server, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').expect("URL ends in /database");
    format!("{base}/{name}")
}

pub fn store(url: &str) -> PgStore {
    PgStore::new(url, 4, TIMEOUT).unwrap()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs a test body on a fresh runtime, bounded.
pub fn run<F: std::future::Future>(f: F) -> F::Output {
    runtime()
        .block_on(async { tokio::time::timeout(Duration::from_secs(300), f).await })
        .expect("test finished in time")
}
