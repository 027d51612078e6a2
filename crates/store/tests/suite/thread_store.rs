//! The embedded backend through the `ThreadStore` trait: the shared conformance checks,
//! plus what is particular to it (lazy open that retries, leases shared by processes).

use std::sync::Arc;
use std::time::Duration;

use codex_store::conformance;
use codex_store::{EmbeddedStore, StoreError, ThreadStore};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn bounded<F: std::future::Future>(rt: &tokio::runtime::Runtime, f: F) -> F::Output {
    rt.block_on(async { tokio::time::timeout(Duration::from_secs(120), f).await })
        .expect("finished in time")
}

#[test]
fn embedded_store_lifecycle_conformance() {
    let home = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::new(home.path());
    bounded(&runtime(), conformance::lifecycle(&store));
}

#[test]
fn embedded_store_scans_and_spans_by_byte_position() {
    let home = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::new(home.path());
    bounded(&runtime(), conformance::scans_and_spans(&store));
}

#[test]
fn embedded_store_lease_conformance_across_two_opens_of_one_home() {
    let home = tempfile::tempdir().unwrap();
    let (a, b) = (
        EmbeddedStore::new(home.path()),
        EmbeddedStore::new(home.path()),
    );
    bounded(&runtime(), conformance::lease(&a, &b));
}

#[test]
fn embedded_store_concurrent_creation_through_three_opens() {
    let home = tempfile::tempdir().unwrap();
    let stores: Vec<Arc<dyn ThreadStore>> = (0..3)
        .map(|_| Arc::new(EmbeddedStore::new(home.path())) as Arc<dyn ThreadStore>)
        .collect();
    bounded(&runtime(), conformance::concurrent_creation(&stores, 40));
}

#[test]
fn a_store_that_failed_to_open_opens_on_the_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // A file where the home directory should be: the open fails.
    std::fs::write(&home, b"not a directory").unwrap();
    let store = EmbeddedStore::new(&home);
    let rt = runtime();
    let err = bounded(&rt, store.ready()).unwrap_err();
    // Unavailable, saying where and why (the next call tries again).
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("the thread store could not be opened") && message.contains("home"),
        "{message}"
    );
    assert!(bounded(&rt, store.list(Default::default())).is_err());
    assert!(store.opened().is_none());
    // The obstacle goes away: the next request opens the store and works.
    std::fs::remove_file(&home).unwrap();
    let page = bounded(&rt, store.list(Default::default())).unwrap();
    assert!(page.data.is_empty());
    assert!(store.opened().is_some());
    bounded(
        &rt,
        store.create_thread(conformance::new_thread("after-retry", 1)),
    )
    .unwrap();
}
