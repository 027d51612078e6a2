//! Memory under long use: 1,000 turns on one thread, and 1,000 threads each started, given a
//! turn and left to be unloaded. Resident memory is reported at checkpoints (run with
//! `--nocapture` to see the table) and must stay bounded: a thread keeps its history, so the
//! first case may grow with the history (measured as the heap its items take as `serde_json`
//! values); the second, one turn per thread, may not grow at all once the table of loaded
//! threads is full (idle threads past 256 are unloaded), so anything a turn leaves behind
//! shows there.

use std::path::Path;

use serde_json::{json, Value};

use super::harness::{held_by, rollout_path, rss_kib, Home, Mock, Server};

/// Slack for allocator and runtime noise between two checkpoints (KiB).
const NOISE_KIB: u64 = 8 * 1024;

/// Heap the thread's model-facing history takes as the server holds it: the `response_item`
/// payloads of its rollout, parsed into `serde_json` values (KiB).
fn history_kib(rollout: &Path) -> u64 {
    let text = std::fs::read_to_string(rollout).expect("rollout");
    let (items, bytes) = held_by(|| {
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["type"] == "response_item")
            .map(|mut l| l["payload"].take())
            .collect::<Vec<Value>>()
    });
    drop(items);
    bytes / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_turns_on_one_thread_grow_memory_only_by_the_history() {
    const TURNS: usize = 1000;
    let home = Home::new();
    let mock = Mock::start().await;
    mock.keep_bodies(false).await;
    mock.set_default(json!({"type": "message", "text": "a short answer to keep", "chunks": 3}))
        .await;
    // One malloc arena, so resident memory follows the heap: with one arena per worker
    // thread, each keeps the transient peak of building a request (a copy of the whole
    // history) and the figure says more about glibc than about us. RELIABILITY.md has both.
    let mut server = Server::spawn_with_env(
        home.path(),
        home.cwd(),
        &mock,
        &[],
        &[("MALLOC_ARENA_MAX", "1")],
    );
    server.initialize().await;
    let thread = server.start_thread(json!({})).await;
    let path = rollout_path(&server.read_thread(&thread).await);
    let mut rows = Vec::new();
    for i in 1..=TURNS {
        let turn = server
            .run_turn(&thread, &format!("question number {i}"))
            .await;
        assert_eq!(turn["status"], "completed", "turn {i}: {turn}");
        if i == 1 || i % 250 == 0 {
            rows.push((i, rss_kib(server.pid(), false), history_kib(&path)));
        }
    }
    let peak = rss_kib(server.pid(), true);
    eprintln!("1,000 turns on one thread (server pid {}):", server.pid());
    eprintln!("  turns  rss KiB  history KiB");
    for (turns, rss, history) in &rows {
        eprintln!("  {turns:>5}  {rss:>7}  {history:>11}");
    }
    eprintln!(
        "  peak rss (VmHWM): {peak} KiB; rollout {} KiB; mock model rss {} KiB",
        std::fs::metadata(&path).expect("rollout").len() / 1024,
        rss_kib(mock.pid(), false)
    );
    // From turn 250 to turn 1,000 the process may grow by what the thread keeps (its history)
    // and by the allocator keeping the largest transient of a turn (building the request
    // copies the history: about three times its size, measured with valgrind's massif), plus
    // noise; not by anything each turn leaves behind.
    let (_, rss_250, history_250) = rows[1];
    let (_, rss_1000, history_1000) = rows[rows.len() - 1];
    let kept = history_1000 - history_250;
    let grown = rss_1000.saturating_sub(rss_250);
    assert!(
        grown <= 4 * kept + NOISE_KIB,
        "rss grew {grown} KiB over 750 turns whose history grew {kept} KiB: a leak"
    );
    let read = server.read_thread(&thread).await;
    assert_eq!(read["turns"].as_array().expect("turns").len(), TURNS);
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_threads_started_and_unloaded_keep_memory_flat() {
    const THREADS: usize = 1000;
    let home = Home::new();
    let mock = Mock::start().await;
    mock.keep_bodies(false).await;
    mock.set_default(json!({"type": "message", "text": "one answer per thread"}))
        .await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let mut rows = Vec::new();
    for i in 1..=THREADS {
        let thread = server.start_thread(json!({})).await;
        let turn = server
            .run_turn(&thread, &format!("thread number {i}"))
            .await;
        assert_eq!(turn["status"], "completed", "thread {i}: {turn}");
        if i == 1 || i % 250 == 0 {
            let loaded = server.ok("thread/loaded/list", json!({})).await["data"]
                .as_array()
                .expect("loaded list")
                .len();
            rows.push((i, rss_kib(server.pid(), false), loaded));
        }
    }
    let peak = rss_kib(server.pid(), true);
    eprintln!(
        "1,000 threads started, one turn each (server pid {}):",
        server.pid()
    );
    eprintln!("  threads  rss KiB  loaded");
    for (threads, rss, loaded) in &rows {
        eprintln!("  {threads:>7}  {rss:>7}  {loaded:>6}");
    }
    eprintln!("  peak rss (VmHWM): {peak} KiB");
    for (threads, _, loaded) in &rows {
        assert!(
            *loaded <= 256,
            "{loaded} threads loaded after {threads}: not unloaded"
        );
    }
    // Past the cap of loaded threads (reached before thread 500) memory must stay flat.
    let (_, rss_500, _) = rows[2];
    let (_, rss_1000, _) = rows[rows.len() - 1];
    assert!(
        rss_1000 <= rss_500 + NOISE_KIB,
        "rss grew from {rss_500} KiB to {rss_1000} KiB over 500 threads that were unloaded: a leak"
    );
    assert_eq!(server.list_all(200).await.len(), THREADS);
    assert_eq!(server.close().await.code(), Some(0));
}
