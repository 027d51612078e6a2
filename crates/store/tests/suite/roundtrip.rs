//! Create / append / load round trips, line format, and torn-line handling.

use std::io::Write;

use codex_store::{Store, StoreError};
use serde_json::json;

use super::helpers::*;

#[test]
fn create_append_load_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let created = at(1_795_474_126);
    let rec = store
        .create_thread(new_thread(
            "01a20a98-0000-7000-8000-000000000001",
            "/w",
            created,
        ))
        .unwrap();
    assert_eq!(rec.created_at, 1_795_474_126);
    assert_eq!(rec.preview, "");
    assert_eq!(rec.model.as_deref(), Some("gpt-test"));
    assert!(!rec.archived);
    let file_name = rec.path.file_name().unwrap().to_str().unwrap().to_string();
    assert!(file_name.starts_with("rollout-"), "{file_name}");
    assert!(file_name.ends_with("-01a20a98-0000-7000-8000-000000000001.jsonl"));
    assert!(rec.path.starts_with(store.codex_home().join("sessions")));

    store
        .append(
            &rec.id,
            &[
                user_item("Fix the test"),
                response_item("done"),
                turn_context("gpt-5"),
            ],
        )
        .unwrap();
    store.append(&rec.id, &[user_message("second")]).unwrap();
    store.sync(&rec.id).unwrap();

    let loaded = store.load(&rec.id).unwrap();
    assert!(loaded.skipped.is_empty());
    let kinds: Vec<&str> = loaded.lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "session_meta",
            "event_msg",
            "response_item",
            "turn_context",
            "event_msg"
        ]
    );
    let ordinals: Vec<Option<u64>> = loaded.lines.iter().map(|l| l.ordinal).collect();
    assert_eq!(ordinals, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
    let meta = &loaded.lines[0].payload;
    assert_eq!(meta["id"], json!(rec.id));
    assert_eq!(meta["session_id"], json!(rec.id));
    assert_eq!(meta["cwd"], json!("/w"));
    assert_eq!(meta["originator"], json!("codex_python_sdk"));
    assert_eq!(meta["cli_version"], json!("0.163.0"));
    assert_eq!(meta["source"], json!("vscode"));
    assert_eq!(meta["model_provider"], json!("openai"));
    assert_eq!(
        meta["base_instructions"],
        json!({"text": "You are a test agent."})
    );
    assert_eq!(meta["timestamp"], json!("2026-11-23T22:48:46.000Z"));
    for l in &loaded.lines {
        assert_eq!(l.timestamp.len(), 24, "{}", l.timestamp);
        assert!(l.timestamp.ends_with('Z'));
    }
    assert_eq!(loaded.lines[2].payload["content"][0]["text"], json!("done"));

    let rec = store.get(&rec.id).unwrap().unwrap();
    assert_eq!(rec.preview, "Fix the test");
    assert_eq!(rec.model.as_deref(), Some("gpt-5"));
    assert_eq!(loaded.record.id, rec.id);

    // Field order of a written line is timestamp, ordinal, type, payload.
    let raw = std::fs::read_to_string(&rec.path).unwrap();
    for line in raw.lines() {
        assert!(line.starts_with("{\"timestamp\":\""), "{line}");
        let ord = line.find("\"ordinal\":").unwrap();
        let ty = line.find("\"type\":").unwrap();
        let pl = line.find("\"payload\":").unwrap();
        assert!(ord < ty && ty < pl, "{line}");
    }
    assert!(raw.ends_with('\n'));
}

#[test]
fn unknown_thread_is_not_found() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    assert!(store.get("nope").unwrap().is_none());
    for result in [
        store.append("nope", &[user_message("x")]).map(|_| ()),
        store.load("nope").map(|_| ()),
        store.sync("nope"),
        store.set_name("nope", "n").map(|_| ()),
        store.archive("nope").map(|_| ()),
        store.unarchive("nope").map(|_| ()),
        store.fork("nope", new_thread("f", "/w", at(0))).map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound(ref id)) if id == "nope"),
            "{result:?}"
        );
    }
}

#[test]
fn duplicate_and_invalid_ids_are_rejected() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("dup", "/w", at(100)))
        .unwrap();
    assert!(matches!(
        store.create_thread(new_thread("dup", "/w", at(200))),
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        store.create_thread(new_thread("../evil", "/w", at(200))),
        Err(StoreError::InvalidArgument(_))
    ));
}

#[test]
fn torn_last_line_is_skipped_and_next_append_is_valid() {
    let home = tempfile::tempdir().unwrap();
    let id = "torn-thread";
    let path = {
        let store = Store::open(home.path()).unwrap();
        let rec = store.create_thread(new_thread(id, "/w", at(1000))).unwrap();
        store
            .append(id, &[user_message("hello"), response_item("a")])
            .unwrap();
        rec.path
    };
    // Simulate a crash in the middle of writing a line.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"{"timestamp":"2026-01-01T00:00:00.000Z","ordinal":3,"type":"resp"#)
        .unwrap();
    drop(f);

    let store = Store::open(home.path()).unwrap();
    let loaded = store.load(id).unwrap();
    assert_eq!(loaded.lines.len(), 3);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(loaded.skipped[0].line, 4);
    assert!(!loaded.skipped[0].reason.is_empty());

    store.append(id, &[response_item("after crash")]).unwrap();
    let loaded = store.load(id).unwrap();
    assert_eq!(loaded.skipped.len(), 1, "only the torn line is bad");
    assert_eq!(loaded.skipped[0].line, 4);
    let last = loaded.lines.last().unwrap();
    assert_eq!(last.payload["content"][0]["text"], json!("after crash"));
    assert_eq!(
        last.ordinal,
        Some(3),
        "ordinals continue after the last valid line"
    );
    // The torn fragment sits on its own line; every other line is valid JSON.
    let raw = std::fs::read_to_string(&path).unwrap();
    let bad: Vec<&str> = raw
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .collect();
    assert_eq!(bad.len(), 1);
    assert!(raw.ends_with('\n'));
}

#[test]
fn torn_line_with_cached_handle_from_same_store() {
    // The store learns about a torn tail when it (re)opens the file for appending.
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("t2", "/w", at(1000)))
        .unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&rec.path)
        .unwrap()
        .write_all(b"{\"partial")
        .unwrap();
    let store2 = Store::open(home.path()).unwrap();
    store2.append("t2", &[user_message("x")]).unwrap();
    let loaded = store2.load("t2").unwrap();
    assert_eq!(loaded.lines.len(), 2);
    assert_eq!(loaded.skipped.len(), 1);
    assert_eq!(store2.get("t2").unwrap().unwrap().preview, "x");
}
