//! Several stores (separate SQLite connections, and separate processes) opening one fresh
//! `$CODEX_HOME` at the same moment: every open succeeds, writes from all of them land, and
//! a listing from any of them sees every thread exactly once (issue 13, defect 1).

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use codex_store::{ListQuery, Store};

use super::helpers::*;

const THREADS_EACH: usize = 5;
/// Set in the child processes of `processes_opening_one_fresh_home_at_once_all_work`.
const CHILD_HOME_ENV: &str = "CODEX_STORE_SHARED_HOME_CHILD";
const CHILD_TAG_ENV: &str = "CODEX_STORE_SHARED_HOME_TAG";

/// Every live thread, walking all pages (small pages so the cursor is exercised).
fn walk_all(store: &Store) -> Vec<String> {
    let mut query = ListQuery {
        limit: Some(3),
        ..ListQuery::default()
    };
    let mut ids = Vec::new();
    for _ in 0..1000 {
        let page = store.list(&query).unwrap();
        ids.extend(page.data.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return ids,
        }
    }
    panic!("listing does not terminate");
}

fn assert_exactly_once(ids: &[String], expected: usize) {
    let set: HashSet<&String> = ids.iter().collect();
    assert_eq!(set.len(), ids.len(), "a thread was listed twice: {ids:?}");
    assert_eq!(ids.len(), expected, "threads missing: {ids:?}");
}

/// What each opener does: open, write its threads (with an append each), list.
fn open_and_write(home: &Path, tag: &str) -> Store {
    let store = Store::open(home).unwrap_or_else(|e| panic!("open by {tag} failed: {e}"));
    for i in 0..THREADS_EACH {
        let id = format!("{tag}-{i}");
        store
            .create_thread(new_thread(&id, "/w", at(9000)))
            .unwrap();
        store.append(&id, &[user_message(&id)]).unwrap();
    }
    // As at the end of a turn: the coalesced index updates become visible to the others.
    store.flush().unwrap();
    store
}

#[test]
fn stores_opening_one_fresh_home_at_once_all_work() {
    const OPENERS: usize = 4;
    for round in 0..8 {
        let home = tempfile::tempdir().unwrap();
        let barrier = Arc::new(Barrier::new(OPENERS));
        let workers: Vec<_> = (0..OPENERS)
            .map(|w| {
                let (home, barrier) = (home.path().to_path_buf(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    open_and_write(&home, &format!("r{round}w{w}"))
                })
            })
            .collect();
        let stores: Vec<Store> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        for store in &stores {
            let ids = walk_all(store);
            assert_exactly_once(&ids, OPENERS * THREADS_EACH);
            for id in &ids {
                let record = store.get(id).unwrap().unwrap();
                assert_eq!(&record.preview, id, "the append's index update landed");
            }
        }
    }
}

#[test]
fn processes_opening_one_fresh_home_at_once_all_work() {
    if let Ok(home) = std::env::var(CHILD_HOME_ENV) {
        // Child mode: the parent below started this process.
        let tag = std::env::var(CHILD_TAG_ENV).unwrap();
        let store = open_and_write(Path::new(&home), &tag);
        drop(store);
        return;
    }
    const PROCESSES: usize = 3;
    for round in 0..4 {
        let home = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..PROCESSES)
            .map(|p| {
                Command::new(std::env::current_exe().unwrap())
                    .args([
                        "--exact",
                        "suite::shared_home::processes_opening_one_fresh_home_at_once_all_work",
                        "--test-threads=1",
                    ])
                    .env(CHILD_HOME_ENV, home.path())
                    .env(CHILD_TAG_ENV, format!("r{round}p{p}"))
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = wait_bounded(child, Duration::from_secs(60));
            assert!(
                out.status.success(),
                "child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let store = Store::open(home.path()).unwrap();
        assert_exactly_once(&walk_all(&store), PROCESSES * THREADS_EACH);
    }
}

/// Waits for a child, killing it after `limit`.
fn wait_bounded(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("child did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn appends_from_two_stores_to_one_thread_continue_each_others_ordinals() {
    // Servers sharing a home take turns on a thread (through its lease); each keeps an
    // append handle cached between its turns.
    let home = tempfile::tempdir().unwrap();
    let a = Store::open(home.path()).unwrap();
    let b = Store::open(home.path()).unwrap();
    a.create_thread(new_thread("shared", "/w", at(1000)))
        .unwrap();
    a.append("shared", &[user_message("a1")]).unwrap();
    b.append("shared", &[user_message("b1"), user_message("b2")])
        .unwrap();
    b.flush().unwrap();
    a.append("shared", &[user_message("a2")]).unwrap();
    b.append("shared", &[user_message("b3")]).unwrap();
    for store in [&a, &b] {
        let loaded = store.load("shared").unwrap();
        let ordinals: Vec<Option<u64>> = loaded.lines.iter().map(|l| l.ordinal).collect();
        assert_eq!(ordinals, (0..6).map(Some).collect::<Vec<_>>());
        let messages: Vec<&str> = loaded
            .lines
            .iter()
            .filter_map(|l| l.payload["message"].as_str())
            .collect();
        assert_eq!(messages, ["a1", "b1", "b2", "a2", "b3"]);
    }
}
