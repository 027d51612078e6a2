//! Archive / unarchive (file moves reflected in listings) and fork (history copied).

use codex_store::{ListQuery, Store};
use serde_json::json;

use super::helpers::*;

#[test]
fn archive_and_unarchive_move_the_file() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    let rec = store
        .create_thread(new_thread("arc", "/w", at(1_795_474_126)))
        .unwrap();
    store.append("arc", &[user_message("keep me")]).unwrap();
    let original = rec.path.clone();
    let file_name = original.file_name().unwrap().to_owned();

    let archived = store.archive("arc").unwrap();
    assert!(archived.archived);
    assert_eq!(
        archived.path,
        store
            .codex_home()
            .join("archived_sessions")
            .join(&file_name)
    );
    assert!(archived.path.exists());
    assert!(!original.exists());
    assert!(store.list(&ListQuery::default()).unwrap().data.is_empty());
    let listed = store
        .list(&ListQuery {
            archived: true,
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(listed.data, vec![archived.clone()]);
    // Idempotent, and appends still work (to the archived file).
    assert_eq!(store.archive("arc").unwrap().path, archived.path);
    store
        .append("arc", &[response_item("while archived")])
        .unwrap();
    assert_eq!(store.load("arc").unwrap().lines.len(), 3);

    // A new process sees the same state.
    drop(store);
    let store = Store::open(home.path()).unwrap();
    assert!(store.get("arc").unwrap().unwrap().archived);

    let back = store.unarchive("arc").unwrap();
    assert!(!back.archived);
    assert_eq!(
        back.path, original,
        "back under the date dirs from the file name"
    );
    assert!(original.exists());
    assert!(!archived.path.exists());
    let listed = store.list(&ListQuery::default()).unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].preview, "keep me");
    let loaded = store.load("arc").unwrap();
    assert_eq!(loaded.lines.len(), 3);
    store.append("arc", &[response_item("after")]).unwrap();
    assert_eq!(
        store.load("arc").unwrap().lines.last().unwrap().ordinal,
        Some(3)
    );
}

#[test]
fn fork_copies_history() {
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).unwrap();
    store
        .create_thread(new_thread("src", "/w", at(1000)))
        .unwrap();
    store
        .append(
            "src",
            &[
                user_item("Original question"),
                response_item("answer"),
                turn_context("m-src"),
            ],
        )
        .unwrap();
    store.set_name("src", "Source name").unwrap();

    let fork = store
        .fork("src", new_thread("dst", "/w2", at(2000)))
        .unwrap();
    assert_eq!(fork.forked_from_id.as_deref(), Some("src"));
    assert_eq!(fork.preview, "Original question");
    assert_eq!(fork.model.as_deref(), Some("m-src"));
    assert_eq!(fork.cwd, std::path::PathBuf::from("/w2"));
    assert_eq!(
        fork.name.as_deref(),
        Some("Source name"),
        "name inherited via the copied event"
    );

    let src = store.load("src").unwrap();
    let dst = store.load("dst").unwrap();
    assert_eq!(dst.lines[0].kind, "session_meta");
    assert_eq!(dst.lines[0].payload["id"], json!("dst"));
    assert_eq!(dst.lines[0].payload["forked_from_id"], json!("src"));
    assert_eq!(dst.lines.len(), src.lines.len());
    for (a, b) in src.lines[1..].iter().zip(&dst.lines[1..]) {
        assert_eq!(
            (&a.kind, &a.payload, &a.timestamp),
            (&b.kind, &b.payload, &b.timestamp)
        );
    }
    let ordinals: Vec<u64> = dst.lines.iter().map(|l| l.ordinal.unwrap()).collect();
    assert_eq!(ordinals, (0..dst.lines.len() as u64).collect::<Vec<_>>());

    // The fork is independent.
    store
        .append("dst", &[user_message("only in fork")])
        .unwrap();
    assert_eq!(store.load("src").unwrap().lines.len(), src.lines.len());
    // Survives a rebuild.
    store.rebuild_index().unwrap();
    let again = store.get("dst").unwrap().unwrap();
    assert_eq!(again.forked_from_id.as_deref(), Some("src"));
    assert_eq!(again.preview, "Original question");
}
