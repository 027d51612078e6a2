//! Behaviour every `ThreadStore` backend must show, as async checks that panic on a
//! violation. Test support only (feature `conformance`): the embedded store's tests and
//! the PostgreSQL store's tests run the same checks, so the backends cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::json;

use crate::{ListQuery, NewThread, RolloutEntry, SortKey, StoreError, ThreadStore};

/// Parameters of a new thread `id` created at Unix second `created_at`.
pub fn new_thread(id: &str, created_at: i64) -> NewThread {
    NewThread {
        id: id.to_string(),
        cwd: PathBuf::from("/work/project"),
        originator: "codex_conformance".to_string(),
        cli_version: "0.163.0".to_string(),
        source: json!("vscode"),
        model_provider: "openai".to_string(),
        model: Some("gpt-test".to_string()),
        base_instructions: None,
        dynamic_tools: None,
        forked_from_id: None,
        created_at: Utc
            .timestamp_opt(created_at, 0)
            .single()
            .expect("valid time"),
    }
}

pub fn user_message(text: &str) -> RolloutEntry {
    RolloutEntry::new(
        "event_msg",
        json!({"type": "user_message", "message": text, "images": []}),
    )
}

pub fn agent_output(text: &str) -> RolloutEntry {
    RolloutEntry::new(
        "response_item",
        json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}),
    )
}

/// Every id of a full walk of `query` (pages of `query.limit`).
pub async fn walk(store: &dyn ThreadStore, query: &ListQuery) -> Vec<String> {
    let mut query = query.clone();
    let mut ids = Vec::new();
    for _ in 0..100_000 {
        let page = store.list(query.clone()).await.unwrap();
        ids.extend(page.data.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => query.cursor = Some(c),
            None => return ids,
        }
    }
    panic!("listing does not terminate");
}

/// Create, append, read (whole and paged), name, search, archive, unarchive, fork, delete.
pub async fn lifecycle(store: &dyn ThreadStore) {
    store.ready().await.unwrap();
    let created = store
        .create_thread(new_thread("life-1", 1_000))
        .await
        .unwrap();
    assert_eq!(created.id, "life-1");
    assert_eq!(created.created_at, 1_000);
    assert_eq!(created.preview, "");
    assert!(matches!(
        store.create_thread(new_thread("life-1", 1_000)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    store
        .append(
            "life-1",
            vec![user_message("hello store"), agent_output("hi")],
        )
        .await
        .unwrap();
    store
        .append("life-1", vec![agent_output("more")])
        .await
        .unwrap();
    store.flush("life-1").await.unwrap();
    let record = store.get("life-1").await.unwrap().unwrap();
    assert_eq!(record.preview, "hello store");
    assert!(record.updated_at >= created.updated_at);

    let loaded = store.load("life-1").await.unwrap();
    let kinds: Vec<&str> = loaded.lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "session_meta",
            "event_msg",
            "response_item",
            "response_item"
        ]
    );
    let ordinals: Vec<Option<u64>> = loaded.lines.iter().map(|l| l.ordinal).collect();
    assert_eq!(ordinals, [Some(0), Some(1), Some(2), Some(3)]);
    assert_eq!(loaded.lines[0].payload["id"], json!("life-1"));
    assert_eq!(loaded.lines[3].payload["content"][0]["text"], json!("more"));
    let first = store.read_lines("life-1", 0, 3).await.unwrap();
    assert_eq!(first.lines, loaded.lines[..3]);
    assert_eq!(first.next, Some(3));
    let rest = store.read_lines("life-1", 3, 3).await.unwrap();
    assert_eq!(rest.lines, loaded.lines[3..]);
    assert_eq!(rest.next, None);

    let named = store.set_name("life-1", "Store Tour").await.unwrap();
    assert_eq!(named.name.as_deref(), Some("Store Tour"));
    let found = store
        .list(ListQuery {
            search_term: Some("store tour".into()),
            ..ListQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(found.data.len(), 1);
    assert_eq!(found.data[0].name.as_deref(), Some("Store Tour"));

    let archived = store.archive("life-1").await.unwrap();
    assert!(archived.archived);
    assert!(
        store.archive("life-1").await.unwrap().archived,
        "idempotent"
    );
    assert!(walk(store, &ListQuery::default()).await.is_empty());
    let in_archive = ListQuery {
        archived: true,
        ..ListQuery::default()
    };
    assert_eq!(walk(store, &in_archive).await, ["life-1"]);
    assert!(!store.unarchive("life-1").await.unwrap().archived);
    assert_eq!(walk(store, &ListQuery::default()).await, ["life-1"]);

    let fork = store
        .fork("life-1", new_thread("life-2", 2_000))
        .await
        .unwrap();
    assert_eq!(fork.forked_from_id.as_deref(), Some("life-1"));
    assert_eq!(fork.name.as_deref(), Some("Store Tour"));
    assert_eq!(fork.preview, "hello store");
    let forked = store.load("life-2").await.unwrap();
    assert_eq!(forked.lines[0].payload["id"], json!("life-2"));
    assert_eq!(
        forked.lines.len(),
        loaded.lines.len() + 1,
        "+ the name event"
    );

    store.delete("life-1").await.unwrap();
    assert!(store.get("life-1").await.unwrap().is_none());
    assert!(matches!(
        store.load("life-1").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.append("life-1", vec![agent_output("x")]).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete("life-1").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(walk(store, &ListQuery::default()).await, ["life-2"]);
    assert!(matches!(store.get("no-such-thread").await, Ok(None)));
}

/// Two handles on one backing store (two servers): refusal naming the owner, renewal,
/// takeover after expiry, release.
/// Scanning by position and reading spans back: a scan from where the last one ended sees
/// only new lines, spans read back exactly the lines between their positions, and a scan
/// from past the end says the thread shrank.
pub async fn scans_and_spans(store: &dyn ThreadStore) {
    let id = "scan-thread";
    store.create_thread(new_thread(id, 1)).await.unwrap();
    let first: Vec<RolloutEntry> = (0..3).map(|i| user_message(&format!("m{i}"))).collect();
    store.append(id, first).await.unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let end = store
        .scan_lines(
            id,
            0,
            Box::new(move |pos, next, line| {
                let text = String::from_utf8_lossy(line).into_owned();
                sink.lock().unwrap().push((pos, next, text));
            }),
        )
        .await
        .unwrap();
    let lines = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(lines.len(), 4, "session_meta and three messages: {lines:?}");
    assert!(!end.shrunk);
    assert!(lines[0].2.contains("session_meta"), "{:?}", lines[0]);
    assert!(lines[3].2.contains("m2"), "{:?}", lines[3]);
    for pair in lines.windows(2) {
        assert_eq!(
            pair[0].1, pair[1].0,
            "next is where the following line starts"
        );
    }
    assert_eq!(end.end, lines[3].1);

    store.append(id, vec![user_message("later")]).await.unwrap();
    let sink = seen.clone();
    let end2 = store
        .scan_lines(
            id,
            end.end,
            Box::new(move |pos, next, line| {
                let text = String::from_utf8_lossy(line).into_owned();
                sink.lock().unwrap().push((pos, next, text));
            }),
        )
        .await
        .unwrap();
    let later = std::mem::take(&mut *seen.lock().unwrap());
    assert_eq!(later.len(), 1, "{later:?}");
    assert!(later[0].2.contains("later"));
    assert_eq!(later[0].0, end.end);

    let spans = vec![(lines[1].0, lines[3].0), (later[0].0, end2.end)];
    let read = store.read_spans(id, spans).await.unwrap();
    let messages: Vec<Vec<String>> = read
        .iter()
        .map(|chunk| {
            chunk
                .iter()
                .map(|l| l.payload["message"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .collect();
    assert_eq!(messages, vec![vec!["m0", "m1"], vec!["later"]]);

    let past = store
        .scan_lines(id, end2.end + 10, Box::new(|_, _, _| {}))
        .await
        .unwrap();
    assert!(
        past.shrunk,
        "a scan past the end means the thread was replaced"
    );
    assert!(matches!(
        store
            .scan_lines("no-such-thread", 0, Box::new(|_, _, _| {}))
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn lease(a: &dyn ThreadStore, b: &dyn ThreadStore) {
    a.create_thread(new_thread("leased", 3_000)).await.unwrap();
    let long = Duration::from_secs(60);
    let held = a.acquire_lease("leased", "server-a", long).await.unwrap();
    assert_eq!(held.owner, "server-a");
    assert_eq!(held.taken_over_from, None);
    match b.acquire_lease("leased", "server-b", long).await {
        Err(StoreError::Leased {
            owner, thread_id, ..
        }) => {
            assert_eq!(owner, "server-a");
            assert_eq!(thread_id, "leased");
        }
        other => panic!("a held lease must be refused, got {other:?}"),
    }
    let err = b
        .acquire_lease("leased", "server-b", long)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("server-a"), "the error names the owner: {err}");
    // The owner renews.
    let renewed = a.acquire_lease("leased", "server-a", long).await.unwrap();
    assert!(renewed.expires_at_ms >= held.expires_at_ms);
    // A lease that has expired (its owner died, say) is taken over.
    a.acquire_lease("leased", "server-a", Duration::ZERO)
        .await
        .unwrap();
    let mut taken = None;
    for _ in 0..1000 {
        // An expiry of "now" is past by the next statement; bounded in case of a coarse clock.
        match b.acquire_lease("leased", "server-b", long).await {
            Ok(lease) => {
                taken = Some(lease);
                break;
            }
            Err(StoreError::Leased { .. }) => tokio::task::yield_now().await,
            Err(e) => panic!("{e}"),
        }
    }
    let taken = taken.expect("expired lease taken over");
    assert_eq!(taken.owner, "server-b");
    assert_eq!(taken.taken_over_from.as_deref(), Some("server-a"));
    // The old owner's renewal now fails, naming the new owner.
    match a.acquire_lease("leased", "server-a", long).await {
        Err(StoreError::Leased { owner, .. }) => assert_eq!(owner, "server-b"),
        other => panic!("the old owner must have lost the lease, got {other:?}"),
    }
    // Releasing someone else's lease does nothing; the owner's release frees it at once,
    // and the next owner learns who held it last (it may have written to the thread).
    a.release_lease("leased", "server-a").await.unwrap();
    assert!(a.acquire_lease("leased", "server-a", long).await.is_err());
    b.release_lease("leased", "server-b").await.unwrap();
    let after_release = a.acquire_lease("leased", "server-a", long).await.unwrap();
    assert_eq!(after_release.taken_over_from.as_deref(), Some("server-b"));
    // Taking back one's own released lease: nobody else held it in between.
    a.release_lease("leased", "server-a").await.unwrap();
    let again = a.acquire_lease("leased", "server-a", long).await.unwrap();
    assert_eq!(again.taken_over_from, None);
    assert!(matches!(
        a.acquire_lease("no-such-thread", "server-a", long).await,
        Err(StoreError::NotFound(_))
    ));
}

/// `per_store` threads created concurrently through each store (one per server) leave
/// exactly all of them listed, by every store, in every order.
pub async fn concurrent_creation(stores: &[Arc<dyn ThreadStore>], per_store: usize) {
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for i in 0..per_store {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let id = format!("conc-{s}-{i:04}");
                // Many threads share one creation second: the keyset must break the ties.
                store
                    .create_thread(new_thread(&id, 5_000 + (i as i64 % 7)))
                    .await
                    .unwrap();
                store
                    .append(&id, vec![user_message(&format!("prompt {id}"))])
                    .await
                    .unwrap();
                store.flush(&id).await.unwrap();
                id
            }));
        }
    }
    let mut expected = HashSet::new();
    for task in tasks {
        expected.insert(task.await.unwrap());
    }
    let total = stores.len() * per_store;
    assert_eq!(expected.len(), total);
    for store in stores {
        for sort_key in [SortKey::CreatedAt, SortKey::UpdatedAt] {
            for descending in [true, false] {
                let query = ListQuery {
                    limit: Some(41),
                    sort_key,
                    descending,
                    ..ListQuery::default()
                };
                let ids = walk(store.as_ref(), &query).await;
                let seen: HashSet<String> = ids.iter().cloned().collect();
                assert_eq!(seen.len(), ids.len(), "listed twice ({sort_key:?})");
                assert_eq!(seen, expected, "{sort_key:?} descending={descending}");
            }
        }
    }
}

/// One step of [`pagination_interleaving`].
#[derive(Debug, Clone)]
pub enum PageOp {
    /// A new thread created at Unix second `created_at` (few distinct values: many ties).
    Create {
        created_at: i64,
    },
    /// An append to the n-th created thread (modulo their count): moves it in `updated_at` order.
    Update(usize),
    Archive(usize),
    Unarchive(usize),
    /// Starts walk `walk` (0 or 1) over live threads, abandoning any walk it had.
    Start {
        walk: usize,
        updated: bool,
        descending: bool,
        limit: u32,
    },
    /// Fetches the next page of walk `walk`, if it is running.
    Step(usize),
}

struct Walk {
    query: ListQuery,
    seen: Vec<String>,
    live_at_start: HashSet<String>,
    /// Threads touched during the walk in a way that may move or hide them.
    disturbed: HashSet<String>,
}

impl Walk {
    /// Every thread is seen at most once; every thread live at the start and not disturbed
    /// is seen exactly once.
    fn check(&self) {
        let seen: HashSet<&String> = self.seen.iter().collect();
        assert_eq!(seen.len(), self.seen.len(), "listed twice: {:?}", self.seen);
        for id in &self.live_at_start {
            if !self.disturbed.contains(id) {
                assert!(
                    seen.contains(id),
                    "{id} skipped by {:?}: {:?}",
                    self.query,
                    self.seen
                );
            }
        }
    }
}

/// Runs `ops` against `store`: any interleaving of creates, updates, archives and page walks
/// sees each thread exactly once (issue 13). `tag` keeps ids unique per run.
pub async fn pagination_interleaving(store: &dyn ThreadStore, tag: &str, ops: &[PageOp]) {
    let mut ids: Vec<String> = Vec::new();
    let mut archived: HashSet<String> = HashSet::new();
    let mut walks: [Option<Walk>; 2] = [None, None];
    let live = |ids: &Vec<String>, archived: &HashSet<String>| -> HashSet<String> {
        ids.iter()
            .filter(|i| !archived.contains(*i))
            .cloned()
            .collect()
    };
    for op in ops {
        match op {
            PageOp::Create { created_at } => {
                let id = format!("{tag}-{:03}", ids.len());
                store
                    .create_thread(new_thread(&id, *created_at))
                    .await
                    .unwrap();
                ids.push(id);
            }
            PageOp::Update(n) | PageOp::Archive(n) | PageOp::Unarchive(n) if !ids.is_empty() => {
                let id = ids[n % ids.len()].clone();
                match op {
                    PageOp::Update(_) => {
                        store.append(&id, vec![agent_output("more")]).await.unwrap();
                        store.flush(&id).await.unwrap();
                        for w in walks.iter_mut().flatten() {
                            if w.query.sort_key == SortKey::UpdatedAt {
                                w.disturbed.insert(id.clone());
                            }
                        }
                    }
                    PageOp::Archive(_) => {
                        store.archive(&id).await.unwrap();
                        archived.insert(id.clone());
                        for w in walks.iter_mut().flatten() {
                            w.disturbed.insert(id.clone());
                        }
                    }
                    _ => {
                        store.unarchive(&id).await.unwrap();
                        archived.remove(&id);
                    }
                }
            }
            PageOp::Update(_) | PageOp::Archive(_) | PageOp::Unarchive(_) => {}
            PageOp::Start {
                walk,
                updated,
                descending,
                limit,
            } => {
                walks[walk % 2] = Some(Walk {
                    query: ListQuery {
                        limit: Some(*limit),
                        sort_key: if *updated {
                            SortKey::UpdatedAt
                        } else {
                            SortKey::CreatedAt
                        },
                        descending: *descending,
                        ..ListQuery::default()
                    },
                    seen: Vec::new(),
                    live_at_start: live(&ids, &archived),
                    disturbed: HashSet::new(),
                });
            }
            PageOp::Step(walk) => {
                let slot = &mut walks[walk % 2];
                if let Some(w) = slot {
                    let page = store.list(w.query.clone()).await.unwrap();
                    w.seen.extend(page.data.into_iter().map(|r| r.id));
                    match page.next_cursor {
                        Some(c) => w.query.cursor = Some(c),
                        None => {
                            w.check();
                            *slot = None;
                        }
                    }
                }
            }
        }
    }
    // Walks still running are finished without further writes.
    for w in walks.iter_mut().flatten() {
        loop {
            let page = store.list(w.query.clone()).await.unwrap();
            w.seen.extend(page.data.into_iter().map(|r| r.id));
            match page.next_cursor {
                Some(c) => w.query.cursor = Some(c),
                None => break,
            }
        }
        w.check();
    }
}
