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
fn scans_and_spans_by_line_ordinal() {
    run(async {
        let url = fresh_database().await;
        conformance::scans_and_spans(&store(&url)).await;
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

#[test]
fn an_append_is_refused_while_another_server_holds_the_lease() {
    run(async {
        let url = fresh_database().await;
        let a = store(&url).with_lease_owner("server-a");
        let b = store(&url).with_lease_owner("server-b");
        let long = std::time::Duration::from_secs(60);
        a.create_thread(conformance::new_thread("leased-append", 1))
            .await
            .unwrap();
        // Without a lease anyone may write.
        a.append("leased-append", vec![conformance::user_message("a1")])
            .await
            .unwrap();
        b.append("leased-append", vec![conformance::user_message("b1")])
            .await
            .unwrap();
        a.acquire_lease("leased-append", "server-a", long)
            .await
            .unwrap();
        a.append("leased-append", vec![conformance::user_message("a2")])
            .await
            .unwrap();
        match b
            .append("leased-append", vec![conformance::user_message("lost")])
            .await
        {
            Err(StoreError::Leased { owner, .. }) => assert_eq!(owner, "server-a"),
            other => panic!("an append under another's lease must be refused, got {other:?}"),
        }
        // A rename is not part of a turn; an unknown thread is still unknown.
        b.set_name("leased-append", "renamed").await.unwrap();
        assert!(matches!(
            b.append("no-such", vec![conformance::user_message("x")])
                .await,
            Err(StoreError::NotFound(_))
        ));
        // Once released, the other server writes again.
        a.release_lease("leased-append", "server-a").await.unwrap();
        b.append("leased-append", vec![conformance::user_message("b2")])
            .await
            .unwrap();
        let loaded = b.load("leased-append").await.unwrap();
        let messages: Vec<String> = loaded
            .lines
            .iter()
            .filter_map(|l| l.payload["message"].as_str().map(str::to_string))
            .collect();
        assert_eq!(messages, ["a1", "b1", "a2", "b2"]);
        let ordinals: Vec<u64> = loaded.lines.iter().filter_map(|l| l.ordinal).collect();
        let expected: Vec<u64> = (0..loaded.lines.len() as u64).collect();
        assert_eq!(ordinals, expected);
    });
}
