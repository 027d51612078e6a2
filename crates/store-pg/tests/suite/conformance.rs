//! The backend-independent `ThreadStore` checks, against PostgreSQL, plus what is
//! particular to it: several servers (pools) migrating and writing at once.

use std::sync::Arc;

use codex_store::conformance;
use codex_store::{StoreError, ThreadStore};
use codex_store_pg::PgStore;

use super::*;

#[test]
fn lifecycle() {
    run(async {
        let url = fresh_database().await;
        conformance::lifecycle(&store(&url)).await;
    });
}

#[test]
fn lease_refusal_naming_the_owner_and_takeover_after_expiry() {
    run(async {
        let url = fresh_database().await;
        let (a, b) = (store(&url), store(&url));
        conformance::lease(&a, &b).await;
    });
}

#[test]
fn three_servers_creating_300_threads_at_once_leave_exactly_300_listed() {
    run(async {
        let url = fresh_database().await;
        // Three pools, as three servers would have, migrating on first use at the same time.
        let stores: Vec<Arc<dyn ThreadStore>> = (0..3)
            .map(|_| Arc::new(store(&url)) as Arc<dyn ThreadStore>)
            .collect();
        conformance::concurrent_creation(&stores, 100).await;
    });
}

#[test]
fn an_unreachable_database_fails_the_call_and_the_next_call_connects() {
    run(async {
        // Nothing listens on port 1: the call fails (bounded), it does not hang.
        let down = PgStore::new("postgres://codex@127.0.0.1:1/none", 2, TIMEOUT).unwrap();
        assert!(down.ready().await.is_err());
        assert!(down.list(Default::default()).await.is_err());
        // A store whose database appears later works from its next call on: the migration
        // is not remembered as done after a failure.
        let url = fresh_database().await;
        let store = store(&url);
        store.ready().await.unwrap();
        store
            .create_thread(conformance::new_thread("after", 1))
            .await
            .unwrap();
        assert!(matches!(
            PgStore::new("mysql://x", 1, TIMEOUT),
            Err(StoreError::InvalidArgument(_))
        ));
    });
}
