//! fuzzyFileSearch over real trees.

use codex_protocol::v2::{FuzzyFileSearchMatchType, FuzzyFileSearchParams};
use codex_workspace::search::{search_roots, FuzzySearcher, MATCH_LIMIT};
use std::sync::atomic::AtomicBool;

fn tree(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in files {
        let p = dir.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    dir
}

#[tokio::test]
async fn best_match_first_with_indices_and_gitignore_honoured() {
    let dir = tree(&[
        "src/main.rs",
        "src/manager.rs",
        "docs/maintenance.md",
        "target/debug/main.rs",
        ".git/config",
    ]);
    std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
    let root = dir.path().display().to_string();
    let searcher = FuzzySearcher::new();
    let r = searcher
        .search(FuzzyFileSearchParams {
            query: "main.rs".into(),
            roots: vec![root.clone()],
            cancellation_token: None,
        })
        .await
        .unwrap();
    let paths: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths.first(), Some(&"src/main.rs"), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.starts_with("target/")),
        "ignored dir listed: {paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with(".git")), "{paths:?}");
    let best = &r.files[0];
    assert_eq!(best.root, root);
    assert_eq!(best.file_name, "main.rs");
    assert_eq!(best.match_type, FuzzyFileSearchMatchType::File);
    let indices = best.indices.clone().unwrap();
    let matched: String = indices
        .iter()
        .map(|&i| best.path.chars().nth(i as usize).unwrap())
        .collect();
    assert_eq!(matched, "main.rs");
    assert!(r.files.windows(2).all(|w| w[0].score >= w[1].score));
}

#[test]
fn directories_match_too_and_results_are_capped_per_root() {
    let names: Vec<String> = (0..120).map(|i| format!("pkg/widget_{i:03}.txt")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let dir = tree(&refs);
    let root = dir.path().display().to_string();
    let files = search_roots(
        "widget",
        std::slice::from_ref(&root),
        &AtomicBool::new(false),
    );
    assert_eq!(files.len(), MATCH_LIMIT);
    let dirs = search_roots("pkg", &[root], &AtomicBool::new(false));
    assert!(dirs
        .iter()
        .any(|f| f.path == "pkg" && f.match_type == FuzzyFileSearchMatchType::Directory));
}

#[test]
fn several_roots_merge_and_an_empty_query_finds_nothing() {
    let a = tree(&["alpha/config.toml"]);
    let b = tree(&["beta/config.yaml"]);
    let roots = vec![
        a.path().display().to_string(),
        b.path().display().to_string(),
    ];
    let files = search_roots("config", &roots, &AtomicBool::new(false));
    let found: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.root.as_str(), f.path.as_str()))
        .collect();
    assert!(
        found.contains(&(roots[0].as_str(), "alpha/config.toml")),
        "{found:?}"
    );
    assert!(
        found.contains(&(roots[1].as_str(), "beta/config.yaml")),
        "{found:?}"
    );
    assert!(search_roots("  ", &roots, &AtomicBool::new(false)).is_empty());
}

#[test]
fn a_cancelled_search_stops_and_finds_nothing() {
    let dir = tree(&["a.txt", "b.txt"]);
    let files = search_roots(
        "txt",
        &[dir.path().display().to_string()],
        &AtomicBool::new(true),
    );
    assert!(files.is_empty());
}
