//! `thread/list` at scale: 10,000 threads written as official-format rollout files before the
//! server starts (most of them sharing their creation second and their mtime second), walked
//! page by page in every sort order; every id must come back exactly once, in order.

use super::harness::{Env, Server};
use codex_protocol::methods::ThreadList;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;

const THREADS: usize = 10_000;
/// Threads per creation second: the ties a naive timestamp cursor skips or repeats.
const PER_SECOND: usize = 100;
const PAGE: usize = 100;

/// A UUID-shaped id whose sort order is unrelated to the creation order (the first group is a
/// bijective scramble of `i`), so ties within a second are broken by id, not by file order.
fn thread_id(i: usize) -> String {
    let scrambled = (i as u32).wrapping_mul(2_654_435_761);
    format!("{scrambled:08x}-{:04x}-7000-8000-{i:012x}", i & 0xffff)
}

/// Writes thread `i` under `sessions/YYYY/MM/DD/` the way the official runtime names and
/// starts a rollout: a `session_meta` line and a `user_message` event.
fn write_rollout(home: &Path, cwd: &str, i: usize) -> String {
    let id = thread_id(i);
    let second = i / PER_SECOND;
    // Half the seconds on one day, half on the next: the walk crosses a day directory.
    let (day, sec_of_day) = (22 + second / 50, 36_000 + second % 50);
    let (hh, mm, ss) = (sec_of_day / 3600, sec_of_day / 60 % 60, sec_of_day % 60);
    let dir = home.join(format!("sessions/2026/11/{day:02}"));
    let stamp = format!("2026-11-{day:02}T{hh:02}:{mm:02}:{ss:02}");
    let iso = format!("{stamp}.000Z");
    let meta = json!({"timestamp": iso, "type": "session_meta", "payload": {
        "id": id, "timestamp": iso, "cwd": cwd, "originator": "codex_cli_rs",
        "cli_version": "0.163.0", "source": "cli", "model_provider": "mock"
    }});
    let message = json!({"timestamp": iso, "type": "event_msg", "payload": {
        "type": "user_message", "message": format!("question number {i}"), "images": []
    }});
    let name = format!("rollout-{}-{id}.jsonl", stamp.replace(':', "-"));
    std::fs::write(dir.join(name), format!("{meta}\n{message}\n")).expect("write rollout");
    id
}

/// Walks `thread/list` with `limit` 100 from the first page to the last; returns the threads
/// in the order served.
async fn walk(server: &mut Server, sort_key: &str, direction: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = json!({"limit": PAGE, "sortKey": sort_key, "sortDirection": direction});
        if let Some(c) = &cursor {
            params["cursor"] = json!(c);
        }
        let page = server.call::<ThreadList>(params).await;
        let data = page["data"].as_array().expect("data").clone();
        assert!(data.len() <= PAGE, "{sort_key} {direction}: page too long");
        pages += 1;
        assert!(
            pages <= THREADS / PAGE + 1,
            "{sort_key} {direction}: pagination does not terminate"
        );
        seen.extend(data);
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(
        pages,
        THREADS / PAGE,
        "{sort_key} {direction}: full pages expected"
    );
    seen
}

#[tokio::test]
async fn ten_thousand_threads_walked_page_by_page_each_seen_once() {
    let env = Env::new().await;
    let cwd = env.work.path().to_str().unwrap().to_string();
    for day in [22, 23] {
        std::fs::create_dir_all(env.home.path().join(format!("sessions/2026/11/{day}"))).unwrap();
    }
    let created: HashSet<String> = (0..THREADS)
        .map(|i| write_rollout(env.home.path(), &cwd, i))
        .collect();
    assert_eq!(created.len(), THREADS);

    let mut server = env.server(&[]).await;
    for (key, field) in [("created_at", "createdAt"), ("updated_at", "updatedAt")] {
        for direction in ["desc", "asc"] {
            let threads = walk(&mut server, key, direction).await;
            let ids: Vec<String> = threads
                .iter()
                .map(|t| t["id"].as_str().expect("id").to_string())
                .collect();
            let unique: HashSet<String> = ids.iter().cloned().collect();
            assert_eq!(
                ids.len(),
                unique.len(),
                "{key} {direction}: a thread was served twice"
            );
            assert_eq!(unique, created, "{key} {direction}: threads skipped");
            let stamps: Vec<i64> = threads
                .iter()
                .map(|t| t[field].as_i64().expect("timestamp"))
                .collect();
            let ordered = stamps.windows(2).all(|w| match direction {
                "desc" => w[0] >= w[1],
                _ => w[0] <= w[1],
            });
            assert!(ordered, "{key} {direction}: not sorted by {field}");
        }
    }
    // The walk saw the real metadata, not just ids.
    let first = server
        .call::<ThreadList>(json!({"limit": 1, "sortDirection": "asc"}))
        .await;
    let thread = &first["data"][0];
    let i = (0..PER_SECOND)
        .find(|&i| thread["id"] == thread_id(i).as_str())
        .expect("the oldest page starts in the oldest second");
    assert_eq!(thread["preview"], format!("question number {i}"));
    assert_eq!(thread["cwd"], cwd.as_str());
}
