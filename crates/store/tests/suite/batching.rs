//! A turn's appends update the index once (issue 9 item 10): their index updates are
//! coalesced, yet every read in the process sees them (listing stays exact), and other
//! processes sharing the index see them once the turn flushes.

use codex_store::{ListQuery, SortKey, Store};

use super::helpers::*;

#[test]
fn coalesced_appends_keep_listing_exact_and_reach_other_processes_on_flush() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let other = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("a", "/w", at(1000)))
        .unwrap();
    store
        .create_thread(new_thread("b", "/w", at(2000)))
        .unwrap();
    // A turn on "a": user message, context, output, a rename event, more output.
    store.append("a", &[user_message("first prompt")]).unwrap();
    store.append("a", &[turn_context("model-2")]).unwrap();
    store.append("a", &[response_item("out 1")]).unwrap();
    store.append("a", &[user_message("second prompt")]).unwrap();
    store
        .append(
            "a",
            &[codex_store::RolloutEntry::new(
                "event_msg",
                serde_json::json!({"type": "thread_name_updated", "thread_id": "a", "thread_name": "named"}),
            )],
        )
        .unwrap();

    // The other store reads the shared index: the turn's updates are still pending.
    let seen_by_other = other.get("a").unwrap().unwrap();
    assert_eq!(seen_by_other.preview, "");

    // This store's reads are exact at once.
    let record = store.get("a").unwrap().unwrap();
    assert_eq!(record.preview, "first prompt");
    assert_eq!(record.name.as_deref(), Some("named"));
    assert_eq!(record.model.as_deref(), Some("model-2"));
    let by_update = store
        .list(&ListQuery {
            sort_key: SortKey::UpdatedAt,
            search_term: Some("named".into()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(by_update.data.len(), 1);
    assert_eq!(by_update.data[0].id, "a");

    // More appends after that read, then the end of the turn.
    store.append("a", &[response_item("out 2")]).unwrap();
    store.flush().unwrap();
    let seen_by_other = other.get("a").unwrap().unwrap();
    assert_eq!(seen_by_other, store.get("a").unwrap().unwrap());
    assert_eq!(seen_by_other.preview, "first prompt");

    // Appending through the other store continues the ordinals the first one wrote.
    other.append("a", &[response_item("from other")]).unwrap();
    let lines = other.load("a").unwrap().lines;
    let ordinals: Vec<u64> = lines.iter().map(|l| l.ordinal.unwrap()).collect();
    assert_eq!(ordinals, (0..8).collect::<Vec<u64>>());
}

#[test]
fn pending_updates_survive_dropping_the_store() {
    let home = tempfile::tempdir().unwrap();
    {
        let store = Store::open(home.path()).unwrap();
        store
            .create_thread(new_thread("d", "/w", at(1000)))
            .unwrap();
        store.append("d", &[user_message("kept")]).unwrap();
    }
    let store = Store::open(home.path()).unwrap();
    assert_eq!(store.last_reconcile().reindexed, 0, "the row was current");
    assert_eq!(store.get("d").unwrap().unwrap().preview, "kept");
}
