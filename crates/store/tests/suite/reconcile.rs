//! Index reconciliation and rebuild: the files are the source of truth.

use std::io::Write;

use codex_store::{ListQuery, SortKey, Store};
use serde_json::json;

use super::helpers::*;

const OFFICIAL_SOURCE: &str = "01a20a98-f6d8-7521-b3a8-3a2ca177cc94";
const OFFICIAL_FORK: &str = "01a20a98-fc9a-7e60-9938-696fc3c07e68";
const OFFICIAL_SIMPLE: &str = "01a20a98-e7af-7890-9f8b-84cdc10a6897";

fn all(store: &Store, archived: bool, sort_key: SortKey) -> Vec<codex_store::ThreadRecord> {
    let mut out = Vec::new();
    let mut q = ListQuery {
        archived,
        sort_key,
        limit: Some(7),
        ..ListQuery::default()
    };
    loop {
        let page = store.list(&q).unwrap();
        out.extend(page.data);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

fn populate(store: &Store) {
    for i in 0..20 {
        let id = format!("r{i:02}");
        store
            .create_thread(new_thread(&id, &format!("/w/{}", i % 3), at(1000 + i / 4)))
            .unwrap();
        if i % 2 == 0 {
            store
                .append(
                    &id,
                    &[user_message(&format!("question {i}")), turn_context("m")],
                )
                .unwrap();
        }
    }
    store.set_name("r03", "three").unwrap();
    store.archive("r05").unwrap();
    store
        .fork("r04", new_thread("r04-fork", "/w/x", at(2000)))
        .unwrap();
}

#[test]
fn deleted_index_is_rebuilt_with_identical_results() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    assert!(
        store.last_reconcile().rebuilt,
        "first open builds the index"
    );
    populate(&store);
    let before: Vec<_> = [false, true]
        .iter()
        .flat_map(|a| [SortKey::CreatedAt, SortKey::UpdatedAt].map(|k| all(&store, *a, k)))
        .collect();
    drop(store);
    let db = home.path().join("state_index.sqlite");
    std::fs::remove_file(&db).unwrap();
    let _ = std::fs::remove_file(home.path().join("state_index.sqlite-wal"));
    let _ = std::fs::remove_file(home.path().join("state_index.sqlite-shm"));

    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert!(stats.rebuilt);
    assert_eq!(stats.reindexed, 21);
    let after: Vec<_> = [false, true]
        .iter()
        .flat_map(|a| [SortKey::CreatedAt, SortKey::UpdatedAt].map(|k| all(&store, *a, k)))
        .collect();
    assert_eq!(before, after);
    assert_eq!(after[0].len(), 20);
    assert_eq!(after[2].len(), 1);

    // Explicit rebuild gives the same answer too.
    store.rebuild_index().unwrap();
    assert_eq!(all(&store, false, SortKey::CreatedAt), before[0]);
}

#[test]
fn corrupt_or_outdated_index_is_rebuilt() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    populate(&store);
    let before = all(&store, false, SortKey::CreatedAt);
    drop(store);

    let db = home.path().join("state_index.sqlite");
    // Wrong schema version.
    {
        let conn = set_foreign_user_version(&db);
        drop(conn);
    }
    let store = Store::open(home.path()).unwrap();
    assert!(store.last_reconcile().rebuilt);
    assert_eq!(all(&store, false, SortKey::CreatedAt), before);
    drop(store);

    // Garbage bytes.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::write(&db, b"this is not a sqlite database, not even close......").unwrap();
    let store = Store::open(home.path()).unwrap();
    assert!(store.last_reconcile().rebuilt);
    assert_eq!(all(&store, false, SortKey::CreatedAt), before);
}

/// Sets a foreign `user_version` through the store's own file format (SQLite header bytes
/// 60..64 hold user_version, big-endian), so the test needs no SQLite dependency.
fn set_foreign_user_version(db: &std::path::Path) -> std::fs::File {
    use std::os::unix::fs::FileExt;
    // Make sure the WAL content is checkpointed into the main file first.
    for suffix in ["-wal", "-shm"] {
        let p = format!("{}{suffix}", db.display());
        if std::path::Path::new(&p).exists() {
            // WAL frames may still hold pages; the store checkpoints on close, so they
            // should be gone — if not, removing them is itself a corruption the store handles.
            std::fs::remove_file(p).unwrap();
        }
    }
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(db)
        .unwrap();
    f.write_all_at(&999u32.to_be_bytes(), 60).unwrap();
    f
}

#[test]
fn unchanged_files_are_not_reread_and_changes_are_picked_up() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    populate(&store);
    drop(store);

    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert!(!stats.rebuilt);
    assert_eq!(stats.files_seen, 21);
    assert_eq!((stats.reindexed, stats.removed, stats.skipped), (0, 0, 0));
    let r07 = store.get("r07").unwrap().unwrap();
    let r09 = store.get("r09").unwrap().unwrap();
    drop(store);

    // Another process appends to r07 and deletes r09.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&r07.path)
        .unwrap();
    writeln!(
        f,
        "{}",
        json!({"timestamp":"2030-01-01T00:00:00.000Z","ordinal":1,"type":"event_msg",
               "payload":{"type":"user_message","message":"external prompt"}})
    )
    .unwrap();
    drop(f);
    std::fs::remove_file(&r09.path).unwrap();

    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!((stats.reindexed, stats.removed), (1, 1));
    assert_eq!(
        store.get("r07").unwrap().unwrap().preview,
        "external prompt"
    );
    assert!(store.get("r09").unwrap().is_none());
    store.append("r07", &[user_message("ours")]).unwrap();
    assert_eq!(
        store.load("r07").unwrap().lines.last().unwrap().ordinal,
        Some(2)
    );
}

#[test]
fn official_rollouts_added_behind_the_stores_back_are_indexed() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("ours", "/w", at(100)))
        .unwrap();

    copy_fixture("official-04", home.path());
    copy_fixture("official-02", home.path());
    // Junk that must be skipped, not fatal.
    let junk_dir = home.path().join("sessions/2026/11/24");
    std::fs::create_dir_all(&junk_dir).unwrap();
    std::fs::write(
        junk_dir.join("rollout-2026-11-24T00-00-00-junk.jsonl"),
        "not json\n",
    )
    .unwrap();
    std::fs::write(
        junk_dir.join("rollout-2026-11-24T00-00-01-nometa.jsonl"),
        "{\"timestamp\":\"x\",\"type\":\"event_msg\",\"payload\":{}}\n",
    )
    .unwrap();
    std::fs::write(junk_dir.join("rollout-2026-11-24T00-00-02-empty.jsonl"), "").unwrap();
    // The official binary also writes the name to session_index.jsonl.
    std::fs::write(
        home.path().join("session_index.jsonl"),
        format!("{{\"id\":\"{OFFICIAL_SOURCE}\",\"thread_name\":\"Capture thread\",\"updated_at\":\"2026-11-23T22:48:46.986Z\"}}\n"),
    )
    .unwrap();

    // The running store does not see them until reconciled; a new open does.
    assert!(store.get(OFFICIAL_SOURCE).unwrap().is_none());
    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!(stats.skipped, 3);
    assert_eq!(stats.reindexed, 3);

    let src = store.get(OFFICIAL_SOURCE).unwrap().unwrap();
    assert_eq!(src.preview, "First message.");
    assert_eq!(src.name.as_deref(), Some("Capture thread"));
    assert_eq!(src.model.as_deref(), Some("mock-model"));
    assert_eq!(src.model_provider, "acceptance_mock");
    assert_eq!(src.originator, "codex_python_sdk");
    assert_eq!(src.cli_version, "0.163.0");
    assert_eq!(src.source, json!("vscode"));
    assert_eq!(src.cwd, std::path::PathBuf::from("/srv/workspace"));
    assert_eq!(src.created_at, 1_795_474_126);
    assert_eq!(src.forked_from_id, None);

    let fork = store.get(OFFICIAL_FORK).unwrap().unwrap();
    assert_eq!(fork.forked_from_id.as_deref(), Some(OFFICIAL_SOURCE));
    assert_eq!(fork.created_at, 1_795_474_128);

    let simple = store.get(OFFICIAL_SIMPLE).unwrap().unwrap();
    assert_eq!(simple.preview, "Say hello.");

    let listed = all(&store, false, SortKey::CreatedAt);
    let ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [OFFICIAL_FORK, OFFICIAL_SOURCE, OFFICIAL_SIMPLE, "ours"]
    );

    // We can continue an official thread: ordinals continue from the file's last one.
    store
        .append(OFFICIAL_SOURCE, &[user_message("continued")])
        .unwrap();
    let loaded = store.load(OFFICIAL_SOURCE).unwrap();
    assert!(loaded.skipped.is_empty());
    assert_eq!(loaded.lines.last().unwrap().ordinal, Some(15));
    let fork_loaded = store.load(OFFICIAL_FORK).unwrap();
    assert_eq!(fork_loaded.lines[0].ordinal, Some(14));
    store.append(OFFICIAL_FORK, &[user_message("x")]).unwrap();
    assert_eq!(
        store
            .load(OFFICIAL_FORK)
            .unwrap()
            .lines
            .last()
            .unwrap()
            .ordinal,
        Some(16)
    );

    // Forking an official thread whose name lives only in session_index.jsonl keeps the name.
    let ours = store
        .fork(
            OFFICIAL_SOURCE,
            new_thread("fork-of-official", "/w", at(3000)),
        )
        .unwrap();
    assert_eq!(ours.name.as_deref(), Some("Capture thread"));
    assert_eq!(ours.preview, "First message.");
    assert_eq!(ours.model.as_deref(), Some("mock-model"));

    // And archive it the way the official binary does.
    let archived = store.archive(OFFICIAL_SOURCE).unwrap();
    assert!(archived.path.ends_with(format!(
        "archived_sessions/rollout-2026-11-23T22-48-46-{OFFICIAL_SOURCE}.jsonl"
    )));
    let back = store.unarchive(OFFICIAL_SOURCE).unwrap();
    assert!(back.path.ends_with(format!(
        "sessions/2026/11/23/rollout-2026-11-23T22-48-46-{OFFICIAL_SOURCE}.jsonl"
    )));
}
