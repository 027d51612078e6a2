//! Storage faults: a rollout whose last line is torn, a read-only `$CODEX_HOME`, and a
//! `$CODEX_HOME` on a full disk. Requests get clear errors, turns that cannot be saved end
//! visibly failed, and everything acknowledged before the fault is intact after it.

use serde_json::{json, Value};

use super::harness::{rollout_path, Home, Mock, Server, Tmpfs};

/// The texts of a turn's items (user prompt, agent answers) in order.
fn texts(turn: &Value) -> Vec<String> {
    turn["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["text"].as_str().or(i["content"][0]["text"].as_str()))
        .map(str::to_string)
        .collect()
}

/// ENOSPC ("No space left on device") or SQLite's "database or disk is full".
fn says_disk_full(message: &str) -> bool {
    let lower = message.to_lowercase();
    lower.contains("no space") || lower.contains("disk is full")
}

fn turns(thread: &Value) -> Vec<Value> {
    thread["turns"].as_array().expect("turns").clone()
}

/// The error of a turn that could not run: either `turn/start` was refused, or the turn ended
/// `failed` with an error message. Panics if the turn completed.
async fn turn_fails_visibly(server: &mut Server, thread: &str, prompt: &str) -> String {
    let started = server
        .call(
            "turn/start",
            json!({"threadId": thread, "input": super::harness::text_input(prompt)}),
        )
        .await;
    match started {
        Err(error) => error["message"].as_str().expect("message").to_string(),
        Ok(result) => {
            let turn_id = result["turn"]["id"].as_str().expect("turn id").to_string();
            let done = server.turn_completed(&turn_id).await;
            assert_eq!(done["turn"]["status"], "failed", "{done}");
            let message = done["turn"]["error"]["message"]
                .as_str()
                .unwrap_or_else(|| panic!("a failed turn without an error message: {done}"));
            message.to_string()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_last_line_is_skipped_and_the_thread_keeps_working() {
    let home = Home::new();
    let mock = Mock::start().await;
    mock.enqueue(json!([
        {"type": "message", "text": "answer one"},
        {"type": "message", "text": "answer two"},
        {"type": "message", "text": "answer three"}
    ]))
    .await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let thread = server.start_thread(json!({})).await;
    server.run_turn(&thread, "one").await;
    server.run_turn(&thread, "two").await;
    let path = rollout_path(&server.read_thread(&thread).await);
    assert_eq!(server.close().await.code(), Some(0));

    // Cut the last line (turn two's completion) in half, as a crash mid-write would.
    let data = std::fs::read(&path).expect("rollout");
    let body = &data[..data.len() - 1];
    let last_start = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let cut = last_start + (body.len() - last_start) / 2;
    std::fs::write(&path, &data[..cut]).expect("tear the last line");

    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    assert_eq!(server.list_all(10).await, std::slice::from_ref(&thread));
    let read = server.read_thread(&thread).await;
    let before = turns(&read);
    assert_eq!(before.len(), 2, "{read}");
    assert_eq!(before[0]["status"], "completed");
    assert_eq!(texts(&before[0]), ["one", "answer one"]);
    assert_ne!(before[1]["status"], "inProgress", "{read}");
    let turn = server.run_turn(&thread, "three").await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert_eq!(server.close().await.code(), Some(0));

    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let after = turns(&server.read_thread(&thread).await);
    assert_eq!(after.len(), 3, "{after:?}");
    assert_eq!(texts(&after[0]), ["one", "answer one"]);
    assert_eq!(after[2]["status"], "completed");
    assert_eq!(texts(&after[2]), ["three", "answer three"]);
    // The torn fragment stays on a line of its own; everything after it is whole.
    let text = std::fs::read_to_string(&path).expect("rollout");
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_err())
        .collect();
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_home_fails_clearly_and_loses_nothing() {
    let disk = Tmpfs::mount(64 * 1024);
    let work = tempfile::tempdir().expect("workdir");
    let mock = Mock::start().await;
    mock.enqueue(json!([
        {"type": "message", "text": "written before"},
        {"type": "message", "text": "written after"}
    ]))
    .await;
    let mut server = Server::start(disk.path(), work.path(), &mock, &[]).await;
    let thread = server.start_thread(json!({})).await;
    server.run_turn(&thread, "before").await;
    assert_eq!(server.close().await.code(), Some(0));

    disk.remount(true);
    let mut server = Server::start(disk.path(), work.path(), &mock, &[]).await;
    let started = server.call("thread/start", json!({})).await;
    let error = started.expect_err("thread/start succeeded on a read-only home");
    let message = error["message"].as_str().expect("message");
    let lower = message.to_lowercase();
    assert!(
        lower.contains("read-only") || lower.contains("readonly"),
        "the error does not say why: {error}"
    );
    // A turn on the existing thread cannot be saved: it must not report success.
    let why = turn_fails_visibly(&mut server, &thread, "during").await;
    assert!(!why.is_empty());
    // Still serving: listing answers (with the thread, or with a clear error).
    match server.call("thread/list", json!({})).await {
        Ok(list) => {
            eprintln!("read-only home: thread/list still lists");
            assert_eq!(list["data"][0]["id"], thread.as_str(), "{list}");
        }
        Err(error) => {
            eprintln!("read-only home: thread/list fails: {error}");
            assert!(
                error["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{error}"
            );
        }
    }
    eprintln!("read-only home: thread/start fails: {error}; a turn fails: {why}");
    assert_eq!(server.close().await.code(), Some(0));

    disk.remount(false);
    let mut server = Server::start(disk.path(), work.path(), &mock, &[]).await;
    let read = server.read_thread(&thread).await;
    let all = turns(&read);
    assert_eq!(all[0]["status"], "completed", "{read}");
    assert_eq!(texts(&all[0]), ["before", "written before"]);
    assert!(all.iter().all(|t| t["status"] != "inProgress"), "{read}");
    let turn = server.run_turn(&thread, "after").await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_fails_turns_visibly_and_keeps_what_was_written() {
    let disk = Tmpfs::mount(8 * 1024);
    let work = tempfile::tempdir().expect("workdir");
    let mock = Mock::start().await;
    mock.set_default(json!({"type": "message", "text": "an answer"}))
        .await;
    let mut server = Server::start(disk.path(), work.path(), &mock, &[]).await;
    let thread = server.start_thread(json!({})).await;
    for prompt in ["first", "second"] {
        let turn = server.run_turn(&thread, prompt).await;
        assert_eq!(turn["status"], "completed", "{turn}");
    }

    disk.fill();
    let why = turn_fails_visibly(&mut server, &thread, "on a full disk").await;
    assert!(
        says_disk_full(&why),
        "the failure does not say the disk is full: {why}"
    );
    let error = server
        .call("thread/start", json!({}))
        .await
        .expect_err("thread/start succeeded on a full disk");
    assert!(
        error["message"].as_str().is_some_and(says_disk_full),
        "{error}"
    );
    // Still serving reads while full.
    assert_eq!(server.list_all(10).await, std::slice::from_ref(&thread));

    disk.free();
    let turn = server.run_turn(&thread, "after freeing space").await;
    assert_eq!(turn["status"], "completed", "{turn}");
    let fresh = server.start_thread(json!({})).await;
    assert_eq!(server.close().await.code(), Some(0));

    let mut server = Server::start(disk.path(), work.path(), &mock, &[]).await;
    let read = server.read_thread(&thread).await;
    let completed: Vec<Vec<String>> = turns(&read)
        .iter()
        .filter(|t| t["status"] == "completed")
        .map(texts)
        .collect();
    assert_eq!(
        completed,
        [
            ["first", "an answer"],
            ["second", "an answer"],
            ["after freeing space", "an answer"]
        ],
        "{read}"
    );
    assert!(
        turns(&read).iter().all(|t| t["status"] != "inProgress"),
        "{read}"
    );
    let mut listed = server.list_all(10).await;
    listed.sort();
    let mut expected = vec![thread.clone(), fresh];
    expected.sort();
    assert_eq!(listed, expected);
    let turn = server.run_turn(&thread, "after a restart").await;
    assert_eq!(turn["status"], "completed", "{turn}");
    assert_eq!(server.close().await.code(), Some(0));
}
