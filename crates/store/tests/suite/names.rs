//! Thread names from both sources: `thread_name_updated` events and `session_index.jsonl`.

use std::io::Write;

use codex_store::{RolloutEntry, Store};
use serde_json::json;

use super::helpers::*;

#[test]
fn set_name_writes_both_sources() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("n1", "/w", at(100)))
        .unwrap();
    let rec = store.set_name("n1", "My thread").unwrap();
    assert_eq!(rec.name.as_deref(), Some("My thread"));

    let index = json_lines(&home.path().join("session_index.jsonl"));
    assert_eq!(index.len(), 1);
    assert_eq!(index[0]["id"], json!("n1"));
    assert_eq!(index[0]["thread_name"], json!("My thread"));
    assert!(index[0]["updated_at"].as_str().unwrap().ends_with('Z'));

    let loaded = store.load("n1").unwrap();
    let last = loaded.lines.last().unwrap();
    assert_eq!(last.kind, "event_msg");
    assert_eq!(
        last.payload,
        json!({"type": "thread_name_updated", "thread_id": "n1", "thread_name": "My thread"})
    );
    store.set_name("n1", "Renamed").unwrap();
    assert_eq!(
        store.get("n1").unwrap().unwrap().name.as_deref(),
        Some("Renamed")
    );
    // Survives a rebuild from the files.
    store.rebuild_index().unwrap();
    assert_eq!(
        store.get("n1").unwrap().unwrap().name.as_deref(),
        Some("Renamed")
    );
}

#[test]
fn name_from_rollout_event_only() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("n2", "/w", at(100)))
        .unwrap();
    store
        .append(
            "n2",
            &[RolloutEntry::new(
                "event_msg",
                json!({"type": "thread_name_updated", "thread_id": "n2", "thread_name": "From event"}),
            )],
        )
        .unwrap();
    assert_eq!(
        store.get("n2").unwrap().unwrap().name.as_deref(),
        Some("From event")
    );
    drop(store);
    std::fs::remove_file(home.path().join("state_index.sqlite")).unwrap();
    let store = Store::open(home.path()).unwrap();
    assert_eq!(
        store.get("n2").unwrap().unwrap().name.as_deref(),
        Some("From event")
    );
}

#[test]
fn name_from_session_index_written_by_another_process_newest_wins() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("n3", "/w", at(100)))
        .unwrap();
    store
        .create_thread(new_thread("n4", "/w", at(100)))
        .unwrap();
    store.set_name("n3", "Old name").unwrap();
    drop(store);
    // Another process appends newer entries (and an older entry for n4 that is then superseded).
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(home.path().join("session_index.jsonl"))
        .unwrap();
    writeln!(
        f,
        r#"{{"id":"n4","thread_name":"first","updated_at":"2099-01-01T00:00:00Z"}}"#
    )
    .unwrap();
    writeln!(
        f,
        r#"{{"id":"n3","thread_name":"External name","updated_at":"2099-01-01T00:00:00Z"}}"#
    )
    .unwrap();
    writeln!(
        f,
        r#"{{"id":"n4","thread_name":"second","updated_at":"2099-01-02T00:00:00Z"}}"#
    )
    .unwrap();
    drop(f);
    let store = Store::open(home.path()).unwrap();
    assert_eq!(
        store.get("n3").unwrap().unwrap().name.as_deref(),
        Some("External name")
    );
    assert_eq!(
        store.get("n4").unwrap().unwrap().name.as_deref(),
        Some("second")
    );
    // A later rename through the store wins again (newest wins).
    store.set_name("n3", "Latest").unwrap();
    drop(store);
    let store = Store::open(home.path()).unwrap();
    // Within session_index the last entry for an id is its newest.
    assert_eq!(
        store.get("n3").unwrap().unwrap().name.as_deref(),
        Some("Latest")
    );
}
