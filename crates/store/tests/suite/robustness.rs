//! Recovery from half-done moves, duplicate thread ids, rollouts deleted under an open
//! handle, and the two halves of a rename staying together.

use std::path::{Path, PathBuf};

use codex_store::{Store, StoreError};

use super::helpers::*;

fn set_mtime(path: &Path, secs: u64) {
    std::fs::File::options()
        .append(true)
        .open(path)
        .unwrap()
        .set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .unwrap();
}

#[test]
fn archive_after_a_crash_between_rename_and_index_update_fixes_the_index() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("half", "/w", at(1_795_474_126)))
        .unwrap();
    store.append("half", &[user_message("hi")]).unwrap();
    let archived_path = store
        .codex_home()
        .join("archived_sessions")
        .join(rec.path.file_name().unwrap());
    // The rename happened, the index update did not.
    std::fs::rename(&rec.path, &archived_path).unwrap();
    let archived = store.archive("half").unwrap();
    assert!(archived.archived);
    assert_eq!(archived.path, archived_path);
    assert_eq!(store.load("half").unwrap().lines.len(), 2);

    // Same for unarchive: the file is back in place already.
    std::fs::rename(&archived_path, &rec.path).unwrap();
    let live = store.unarchive("half").unwrap();
    assert!(!live.archived);
    assert_eq!(live.path, rec.path);
    store.append("half", &[user_message("again")]).unwrap();
    assert_eq!(store.load("half").unwrap().lines.len(), 3);
}

#[test]
fn duplicate_thread_id_keeps_the_indexed_file_across_reopens() {
    let home = tempfile::tempdir().unwrap();
    let original = {
        let store = Store::open(home.path()).unwrap();
        let rec = store
            .create_thread(new_thread("dup", "/w", at(1_795_474_126)))
            .unwrap();
        store.append("dup", &[user_message("original")]).unwrap();
        rec.path
    };
    // Another copy with the same id, newer, in another day directory.
    let copy_dir = home.path().join("sessions/2020/01/01");
    std::fs::create_dir_all(&copy_dir).unwrap();
    let copy: PathBuf = copy_dir.join(original.file_name().unwrap());
    std::fs::copy(&original, &copy).unwrap();
    set_mtime(&original, 1_700_000_000);
    set_mtime(&copy, 1_700_000_500);
    let mut paths = Vec::new();
    for _ in 0..3 {
        let store = Store::open(home.path()).unwrap();
        store.reconcile().unwrap();
        paths.push(store.require("dup").unwrap().path);
    }
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap();
    assert!(
        paths.iter().all(|p| canon(p) == canon(&original)),
        "{paths:?}"
    );

    // Without a previous choice (fresh index), the newest file wins, and then stays.
    let store = Store::open(home.path()).unwrap();
    store.rebuild_index().unwrap();
    assert_eq!(canon(&store.require("dup").unwrap().path), canon(&copy));
    drop(store);
    for _ in 0..2 {
        let store = Store::open(home.path()).unwrap();
        store.reconcile().unwrap();
        assert_eq!(canon(&store.require("dup").unwrap().path), canon(&copy));
    }
}

#[test]
fn append_to_a_rollout_deleted_by_another_process_is_an_error() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("gone", "/w", at(1_795_474_126)))
        .unwrap();
    store.append("gone", &[user_message("kept")]).unwrap();
    std::fs::remove_file(&rec.path).unwrap();
    let err = store.append("gone", &[user_message("lost")]).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    // The handle was dropped: the next append reopens by path, which fails too.
    assert!(store.append("gone", &[user_message("lost")]).is_err());
}

#[test]
fn append_to_a_replaced_rollout_errors_once_then_writes_the_new_file() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("swap", "/w", at(1_795_474_126)))
        .unwrap();
    store.append("swap", &[user_message("one")]).unwrap();
    // Another process rewrites the file (write to a temp file, rename over).
    let tmp = rec.path.with_extension("tmp");
    std::fs::copy(&rec.path, &tmp).unwrap();
    std::fs::rename(&tmp, &rec.path).unwrap();
    let err = store
        .append("swap", &[user_message("orphaned")])
        .unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    store.append("swap", &[user_message("two")]).unwrap();
    let lines = json_lines(&rec.path);
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["payload"]["message"].as_str())
        .collect();
    assert_eq!(messages, vec!["one", "two"]);
}

#[test]
fn set_name_stamps_log_and_rollout_with_one_time_and_concurrent_renames_agree() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("nm", "/w", at(1_795_474_126)))
        .unwrap();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..20 {
                    store.set_name("nm", &format!("name-{w}-{i}")).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let log = json_lines(&home.path().join("session_index.jsonl"));
    let events: Vec<serde_json::Value> = json_lines(&rec.path)
        .into_iter()
        .filter(|l| l["payload"]["type"] == "thread_name_updated")
        .collect();
    assert_eq!(log.len(), 80);
    assert_eq!(events.len(), 80);
    // Same order and same time in both places.
    for (entry, event) in log.iter().zip(&events) {
        assert_eq!(entry["thread_name"], event["payload"]["thread_name"]);
        assert_eq!(entry["updated_at"], event["timestamp"]);
    }
    let last = log.last().unwrap()["thread_name"].as_str().unwrap();
    assert_eq!(store.require("nm").unwrap().name.as_deref(), Some(last));
}
