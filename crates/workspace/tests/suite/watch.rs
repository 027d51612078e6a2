//! fs/watch against inotify on a real directory.

use codex_protocol::v2::{FsUnwatchParams, FsWatchParams};
use codex_workspace::watch::WatchRegistry;
use codex_workspace::WorkspaceError;
use std::time::Duration;

#[tokio::test]
async fn changes_are_reported_per_watch_and_stop_after_unwatch() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let registry = WatchRegistry::new(tx).unwrap();
    let r = registry
        .watch(&FsWatchParams {
            path: dir.path().into(),
            watch_id: "w1".into(),
        })
        .unwrap();
    assert_eq!(r.path, root);
    let err = registry
        .watch(&FsWatchParams {
            path: dir.path().into(),
            watch_id: "w1".into(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::DuplicateWatch(_)));

    // A burst of writes in a subdirectory (recursive) arrives coalesced.
    for i in 0..20 {
        std::fs::write(root.join("sub").join(format!("f{i}.txt")), "x").unwrap();
    }
    let note = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(note.watch_id, "w1");
    assert!(note.changed_paths.iter().all(|p| p.starts_with(&root)));
    assert!(
        note.changed_paths.iter().any(|p| p.ends_with("f0.txt")),
        "{:?}",
        note.changed_paths
    );
    // Drain whatever else the burst produced.
    while tokio::time::timeout(Duration::from_millis(300), rx.recv())
        .await
        .is_ok()
    {}

    registry
        .unwatch(&FsUnwatchParams {
            watch_id: "w1".into(),
        })
        .unwrap();
    assert!(registry.is_empty());
    std::fs::write(root.join("after.txt"), "x").unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(400), rx.recv())
        .await
        .is_err());
    let err = registry
        .unwatch(&FsUnwatchParams {
            watch_id: "w1".into(),
        })
        .unwrap_err();
    assert!(matches!(err, WorkspaceError::UnknownWatch(_)));
}

#[tokio::test]
async fn watching_a_missing_or_relative_path_fails_clearly() {
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let registry = WatchRegistry::new(tx).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = registry
        .watch(&FsWatchParams {
            path: missing.clone(),
            watch_id: "x".into(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    assert!(registry
        .watch(&FsWatchParams {
            path: "relative".into(),
            watch_id: "y".into()
        })
        .unwrap_err()
        .is_invalid_params());
}
