//! Crash durability: lines whose `append` returned survive the process being killed with
//! SIGKILL (no sync, no destructors).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use codex_store::Store;

use super::helpers::*;

const HOME_ENV: &str = "CODEX_STORE_KILL9_HOME";
const LINES: usize = 200;

/// Child half: appends LINES lines, reports, then waits to be killed.
fn kill9_child(home: &str) {
    let store = Store::open(std::path::Path::new(home)).unwrap();
    store
        .create_thread(new_thread("victim", "/w", at(5000)))
        .unwrap();
    for i in 0..LINES {
        store
            .append("victim", &[response_item(&format!("line {i}"))])
            .unwrap();
    }
    println!("APPENDED");
    // Killed by the parent long before this ends; bounded so an orphan cannot linger.
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn appended_lines_survive_kill_9() {
    if let Ok(home) = std::env::var(HOME_ENV) {
        // Child mode: this process was started by the parent half below.
        return kill9_child(&home);
    }
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "suite::durability::appended_lines_survive_kill_9",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HOME_ENV, home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("APPENDED") {
                let _ = tx.send(());
                break;
            }
        }
    });
    let ready = rx.recv_timeout(Duration::from_secs(60));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    ready.expect("child appended in time");

    let store = Store::open(home.path()).unwrap();
    let loaded = store.load("victim").unwrap();
    assert!(loaded.skipped.is_empty());
    assert_eq!(loaded.lines.len(), LINES + 1);
    for (i, line) in loaded.lines.iter().enumerate() {
        assert_eq!(line.ordinal, Some(i as u64));
    }
    assert_eq!(
        loaded.lines[LINES].payload["content"][0]["text"],
        serde_json::json!(format!("line {}", LINES - 1))
    );
}

#[test]
fn drop_without_sync_loses_nothing() {
    let home = tempfile::tempdir().unwrap();
    {
        let store = Store::open(home.path()).unwrap();
        store
            .create_thread(new_thread("d", "/w", at(5000)))
            .unwrap();
        for i in 0..50 {
            store
                .append("d", &[user_message(&format!("m{i}"))])
                .unwrap();
        }
        // Leak instead of dropping: no destructor, no flush, no sync.
        std::mem::forget(store);
    }
    let store = Store::open(home.path()).unwrap();
    let loaded = store.load("d").unwrap();
    assert_eq!(loaded.lines.len(), 51);
    assert_eq!(store.get("d").unwrap().unwrap().preview, "m0");
    store.append("d", &[user_message("next")]).unwrap();
    assert_eq!(
        store.load("d").unwrap().lines.last().unwrap().ordinal,
        Some(51)
    );
}
