//! Fast open: directory stamps let an unchanged tree open without stat'ing files; changes
//! behind the store's back are still seen (creations/deletions at once, in-place appends by
//! the background pass).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use codex_store::{BackgroundReconcile, ListQuery, ReconcileStats, Store};
use serde_json::json;

use super::helpers::*;

const WAIT: Duration = Duration::from_secs(30);

/// A rollout as another process (the official binary) would write it.
fn write_external(home: &Path, dir: &str, id: &str, prompt: Option<&str>) -> PathBuf {
    let dir = home.join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("rollout-2026-01-01T00-00-00-{id}.jsonl"));
    let mut body = json!({"timestamp":"2026-01-01T00:00:00.000Z","ordinal":0,"type":"session_meta",
        "payload":{"id":id,"timestamp":"2026-01-01T00:00:00.000Z","cwd":"/w","originator":"o",
                   "cli_version":"1","source":"vscode","model_provider":"p"}})
    .to_string();
    body.push('\n');
    if let Some(text) = prompt {
        body.push_str(&user_line(1, text));
    }
    std::fs::write(&path, body).unwrap();
    path
}

fn user_line(ordinal: u64, text: &str) -> String {
    let mut line =
        json!({"timestamp":"2026-01-01T00:00:01.000Z","ordinal":ordinal,"type":"event_msg",
        "payload":{"type":"user_message","message":text}})
        .to_string();
    line.push('\n');
    line
}

/// Seven threads over three day directories and the archive.
fn external_tree(home: &Path) {
    for (dir, id) in [
        ("sessions/2026/01/01", "e1"),
        ("sessions/2026/01/01", "e2"),
        ("sessions/2026/01/01", "e3"),
        ("sessions/2026/01/02", "e4"),
        ("sessions/2026/01/02", "e5"),
        ("sessions/2026/02/10", "e6"),
        ("archived_sessions", "e7"),
    ] {
        write_external(home, dir, id, Some(&format!("hello {id}")));
    }
}

/// Moves every directory's mtime an hour back, so that the stamps the next open records
/// are trusted (not within the racy window of a just-modified directory).
fn backdate_dirs(home: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    let mut stack = vec![home.join("sessions"), home.join("archived_sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            }
        }
        std::fs::File::open(&dir)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
}

fn finished(store: &Store) -> ReconcileStats {
    match store.wait_background_reconcile(WAIT) {
        BackgroundReconcile::Finished(stats) => stats,
        other => panic!("background pass did not finish: {other:?}"),
    }
}

/// Builds the index over `external_tree` with trusted stamps, then closes the store.
fn recorded_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("archived_sessions")).unwrap();
    external_tree(home.path());
    backdate_dirs(home.path());
    let store = Store::open(home.path()).unwrap();
    assert!(store.last_reconcile().rebuilt);
    assert_eq!(store.last_reconcile().reindexed, 7);
    home
}

#[test]
fn unchanged_tree_opens_without_touching_files() {
    let home = recorded_home();
    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert!(!stats.rebuilt);
    assert_eq!(stats.dirs_rescanned, 0, "{stats:?}");
    assert_eq!(stats.files_statted, 0, "{stats:?}");
    assert_eq!((stats.reindexed, stats.removed, stats.skipped), (0, 0, 0));
    // sessions, 2026, 01, 01, 02, 02, 10, archived_sessions
    assert_eq!(stats.dirs_checked, 8, "{stats:?}");
    assert_eq!(stats.files_seen, 7);
    assert_eq!(store.list(&ListQuery::default()).unwrap().data.len(), 6);
    // The background pass stats every file and finds nothing to do.
    let bg = finished(&store);
    assert_eq!(bg.files_statted, 7);
    assert_eq!((bg.reindexed, bg.removed, bg.skipped), (0, 0, 0));
}

#[test]
fn files_added_behind_the_back_are_visible_right_after_open() {
    let home = recorded_home();
    write_external(home.path(), "sessions/2026/01/02", "new-in-old-dir", None);
    write_external(
        home.path(),
        "sessions/2026/03/05",
        "new-in-new-dir",
        Some("fresh"),
    );
    write_external(home.path(), "archived_sessions", "new-archived", None);
    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!(stats.reindexed, 3, "{stats:?}");
    // 2026/01/02, 2026 (new month), 2026/03, 2026/03/05 and the archive; nothing else.
    assert_eq!(stats.dirs_rescanned, 5, "{stats:?}");
    assert_eq!(stats.files_statted, 3 + 1 + 2, "{stats:?}");
    assert!(store.get("new-in-old-dir").unwrap().is_some());
    assert_eq!(
        store.get("new-in-new-dir").unwrap().unwrap().preview,
        "fresh"
    );
    assert!(store.get("new-archived").unwrap().unwrap().archived);
}

#[test]
fn files_and_directories_deleted_behind_the_back_are_gone_right_after_open() {
    let home = recorded_home();
    let store = Store::open(home.path()).unwrap();
    let e4 = store.get("e4").unwrap().unwrap();
    let e7 = store.get("e7").unwrap().unwrap();
    drop(store);
    std::fs::remove_file(&e4.path).unwrap();
    std::fs::remove_file(&e7.path).unwrap();
    std::fs::remove_dir_all(home.path().join("sessions/2026/01/01")).unwrap();

    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!(stats.removed, 5, "{stats:?}");
    for id in ["e1", "e2", "e3", "e4", "e7"] {
        assert!(store.get(id).unwrap().is_none(), "{id} still indexed");
    }
    assert!(store.get("e5").unwrap().is_some());
    assert_eq!(finished(&store).removed, 0);
}

#[test]
fn file_appended_in_place_is_picked_up_by_the_background_pass() {
    let home = recorded_home();
    let path = write_external(home.path(), "sessions/2026/01/02", "quiet", None);
    backdate_dirs(home.path());
    drop(Store::open(home.path()).unwrap());

    // Another process appends: the directory's mtime does not change.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(user_line(1, "external prompt").as_bytes())
        .unwrap();
    drop(f);

    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!((stats.dirs_rescanned, stats.reindexed), (0, 0), "{stats:?}");
    let bg = finished(&store);
    assert_eq!(bg.reindexed, 1, "{bg:?}");
    assert_eq!(
        store.get("quiet").unwrap().unwrap().preview,
        "external prompt"
    );
    store.append("quiet", &[user_message("ours")]).unwrap();
    let lines = store.load("quiet").unwrap().lines;
    assert_eq!(lines.last().unwrap().ordinal, Some(2));
}

#[test]
fn own_writes_and_background_pass_leave_a_consistent_index() {
    let home = recorded_home();
    let e2 = Store::open(home.path())
        .unwrap()
        .get("e2")
        .unwrap()
        .unwrap();
    // Changed in place behind our back, then written by us while the pass may be running.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&e2.path)
        .unwrap();
    f.write_all(user_line(2, "external").as_bytes()).unwrap();
    drop(f);
    let store = Store::open(home.path()).unwrap();
    for i in 0..20 {
        store
            .append("e2", &[user_message(&format!("ours {i}"))])
            .unwrap();
    }
    store
        .create_thread(new_thread("mine", "/w", at(86_400 * 400)))
        .unwrap();
    store.archive("e5").unwrap();
    finished(&store);
    drop(store);

    // Whatever the interleaving, the index now matches the files exactly, and our own
    // writes cost only a re-listing of the directories they touched.
    let store = Store::open(home.path()).unwrap();
    let stats = store.last_reconcile();
    assert_eq!((stats.reindexed, stats.removed), (0, 0), "{stats:?}");
    assert!(stats.dirs_rescanned < stats.dirs_checked, "{stats:?}");
    let bg = finished(&store);
    assert_eq!((bg.reindexed, bg.removed), (0, 0), "{bg:?}");
    let lines = store.load("e2").unwrap().lines;
    assert_eq!(lines.len(), 23);
    assert_eq!(lines.last().unwrap().ordinal, Some(22));
    assert!(store.get("e5").unwrap().unwrap().archived);
    assert!(store.get("mine").unwrap().is_some());
}

#[test]
fn own_directory_deleted_behind_the_back_is_forgotten() {
    let home = recorded_home();
    let store = Store::open(home.path()).unwrap();
    let mine = store
        .create_thread(new_thread("mine", "/w", at(86_400 * 400)))
        .unwrap();
    drop(store);
    // Its whole year directory (created by us, never listed by a reconciliation) vanishes.
    let day = mine.path.parent().unwrap();
    let year = day.parent().unwrap().parent().unwrap();
    std::fs::remove_dir_all(year).unwrap();
    let store = Store::open(home.path()).unwrap();
    assert!(store.get("mine").unwrap().is_none());
    assert_eq!(store.last_reconcile().removed, 1);
}

#[test]
fn dropping_the_store_stops_the_background_pass_promptly() {
    let home = recorded_home();
    for i in 0..300 {
        write_external(
            home.path(),
            "sessions/2026/01/03",
            &format!("bulk{i}"),
            None,
        );
    }
    backdate_dirs(home.path());
    drop(Store::open(home.path()).unwrap());
    let store = Store::open(home.path()).unwrap();
    let started = Instant::now();
    drop(store);
    assert!(started.elapsed() < Duration::from_secs(10));
    // And a new store on the same home works normally.
    let store = Store::open(home.path()).unwrap();
    assert!(store.get("bulk7").unwrap().is_some());
    assert_eq!(finished(&store).reindexed, 0);
}

#[test]
fn damaged_index_is_rebuilt() {
    let home = recorded_home();
    let before = Store::open(home.path())
        .unwrap()
        .list(&ListQuery::default())
        .unwrap();
    // Garbage over the last page (an index b-tree page, not needed by the fast open):
    // opening succeeds, only the full integrity check notices.
    let db = home.path().join("state_index.sqlite");
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 4096, "index has more than one page");
    let f = std::fs::OpenOptions::new().write(true).open(&db).unwrap();
    use std::os::unix::fs::FileExt;
    f.write_all_at(&[0xA5; 4096], len - 4096).unwrap();
    drop(f);

    let store = Store::open(home.path()).unwrap();
    assert!(!store.last_reconcile().rebuilt);
    let bg = finished(&store);
    assert!(bg.rebuilt, "{bg:?}");
    assert_eq!(bg.reindexed, 7);
    assert_eq!(store.last_reconcile(), bg);
    assert_eq!(store.list(&ListQuery::default()).unwrap(), before);
}
