//! Scale check, its own test binary (not run by `cargo test`; `scripts/test` runs it, and
//! `cargo test -p codex-store --release --test scale -- --nocapture` prints the figures):
//! 100,000 rollout files (`STORE_SCALE_N`) written behind the store's back, then a cold build
//! and a warm reopen (directory stamps only), the background per-file pass, listing, and the
//! latency of creating a thread next to them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use codex_store::{BackgroundReconcile, ListQuery, NewThread, Store};

#[test]
fn scale_100k_threads() {
    let n: usize = std::env::var("STORE_SCALE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("sessions/2026/01/01");
    std::fs::create_dir_all(&dir).unwrap();
    let t = Instant::now();
    for i in 0..n {
        let id = format!("00000000-0000-7000-8000-{i:012}");
        std::fs::write(
            dir.join(format!("rollout-2026-01-01T00-00-00-{id}.jsonl")),
            rollout(&id, i),
        )
        .unwrap();
    }
    eprintln!("wrote {n} files in {:?}", t.elapsed());
    let t = Instant::now();
    let store = Store::open(home.path()).unwrap();
    eprintln!(
        "cold open (build): {:?} {:?}",
        t.elapsed(),
        store.last_reconcile()
    );
    drop(store);
    let t = Instant::now();
    let store = Store::open(home.path()).unwrap();
    eprintln!(
        "warm open (reconcile): {:?} {:?}",
        t.elapsed(),
        store.last_reconcile()
    );
    assert_eq!(store.last_reconcile().reindexed, 0);
    let t = Instant::now();
    let page = store.list(&ListQuery::default()).unwrap();
    eprintln!("first page after open: {:?}", t.elapsed());
    assert_eq!(page.data.len(), 25);
    let t = Instant::now();
    let bg = store.wait_background_reconcile(Duration::from_secs(120));
    eprintln!("background pass: {:?} more: {bg:?}", t.elapsed());
    assert!(matches!(bg, BackgroundReconcile::Finished(s) if s.reindexed == 0));
    let t = Instant::now();
    let mut q = ListQuery {
        limit: Some(100),
        ..ListQuery::default()
    };
    let mut seen = 0;
    for _ in 0..50 {
        let page = store.list(&q).unwrap();
        seen += page.data.len();
        q.cursor = page.next_cursor;
    }
    eprintln!("50 pages deep: {:?} ({seen} rows)", t.elapsed());
    let t = Instant::now();
    let page = store
        .list(&ListQuery {
            search_term: Some("hello 99999".into()),
            ..ListQuery::default()
        })
        .unwrap();
    eprintln!("search: {:?} ({} rows)", t.elapsed(), page.data.len());
    let mut firsts = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let page = store.list(&ListQuery::default()).unwrap();
        firsts.push(t.elapsed());
        assert_eq!(page.data.len(), 25);
    }
    eprintln!("first page, steady state: median {:?}", median(firsts));
    let mut creates = Vec::new();
    for i in 0..50 {
        let new = NewThread {
            id: format!("scale-new-{i}"),
            cwd: "/w".into(),
            originator: "o".into(),
            cli_version: "1".into(),
            source: serde_json::json!("vscode"),
            model_provider: "p".into(),
            model: None,
            base_instructions: None,
            dynamic_tools: None,
            forked_from_id: None,
            created_at: chrono::Utc::now(),
        };
        let t = Instant::now();
        store.create_thread(new).unwrap();
        creates.push(t.elapsed());
    }
    eprintln!("create_thread next to {n}: median {:?}", median(creates));
    // A turn's seven appends: index updated once at the end (coalesced) versus after each.
    for per_append in [false, true] {
        let mut turns = Vec::new();
        for turn in 0..40 {
            let id = format!("scale-new-{}", turn % 50);
            let t = Instant::now();
            for i in 0..7 {
                let entry = codex_store::RolloutEntry::new(
                    "response_item",
                    serde_json::json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": format!("turn {turn} item {i}")}]}),
                );
                store.append(&id, &[entry]).unwrap();
                if per_append {
                    store.flush().unwrap();
                }
            }
            store.flush().unwrap();
            turns.push(t.elapsed());
        }
        let how = if per_append {
            "index updated per append"
        } else {
            "coalesced"
        };
        eprintln!("turn of 7 appends, {how}: median {:?}", median(turns));
    }
    drop(store);

    // Another process adds a thread to the big directory: that directory is re-listed.
    let id = "00000000-0000-7000-8000-999999999999";
    std::fs::write(
        dir.join(format!("rollout-2026-01-01T00-00-00-{id}.jsonl")),
        rollout(id, 0),
    )
    .unwrap();
    let t = Instant::now();
    let store = Store::open(home.path()).unwrap();
    eprintln!(
        "open after a file was added to the {n}-file directory: {:?} {:?}",
        t.elapsed(),
        store.last_reconcile()
    );
    // The big directory (and the fresh ones of the threads created above) were re-listed.
    assert!(store.last_reconcile().dirs_rescanned >= 1);
    assert_eq!(store.last_reconcile().reindexed, 1);
    assert!(store.get(id).unwrap().is_some());
}

fn rollout(id: &str, i: usize) -> String {
    format!(
        "{{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"ordinal\":0,\"type\":\"session_meta\",\"payload\":{{\"id\":\"{id}\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"cwd\":\"/w/{}\",\"originator\":\"o\",\"cli_version\":\"1\",\"source\":\"vscode\",\"model_provider\":\"p\"}}}}\n{{\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"ordinal\":1,\"type\":\"event_msg\",\"payload\":{{\"type\":\"user_message\",\"message\":\"hello {i}\"}}}}\n",
        i % 10
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
