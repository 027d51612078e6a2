//! `fuzzyFileSearch`: snake_case results sorted by score, `.gitignore` honoured, roots that do
//! not exist give nothing, and a newer search with the same cancellation token ends the older.

use super::harness::Env;
use codex_protocol::methods::{FsGetMetadata, FuzzyFileSearch, Method};
use serde_json::json;
use std::path::Path;

fn touch(root: &Path, relative: &str) {
    let file = root.join(relative);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, "").unwrap();
}

#[tokio::test]
async fn results_are_snake_case_sorted_by_score_and_honour_gitignore() {
    let env = Env::new().await;
    let root = env.work.path();
    touch(root, "src/main.rs");
    touch(root, "docs/domain_and_index.md");
    touch(root, "ignored/main_ignored.rs");
    std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
    let mut server = env.server(&[]).await;
    let root_text = root.display().to_string();
    let found = server
        .call::<FuzzyFileSearch>(json!({"query": "main", "roots": [root_text]}))
        .await;
    let files = found["files"].as_array().unwrap();
    let paths: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths.first(), Some(&"src/main.rs"), "{found}");
    assert!(!paths.iter().any(|p| p.starts_with("ignored")), "{paths:?}");
    let best = &files[0];
    assert_eq!(best["root"], root_text);
    assert_eq!(best["match_type"], "file");
    assert_eq!(best["file_name"], "main.rs");
    assert_eq!(best["indices"], json!([4, 5, 6, 7]));
    let scores: Vec<u64> = files.iter().map(|f| f["score"].as_u64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    let empty = server
        .call::<FuzzyFileSearch>(json!({"query": "", "roots": [root_text]}))
        .await;
    assert_eq!(empty["files"], json!([]));
    let nowhere = server
        .call::<FuzzyFileSearch>(json!({"query": "main", "roots": ["/nonexistent/root"]}))
        .await;
    assert_eq!(nowhere["files"], json!([]));
    let err = server
        .call_err(FuzzyFileSearch::NAME, json!({"query": "main"}))
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    assert!(err["message"].as_str().unwrap().contains("roots"), "{err}");
}

#[tokio::test]
async fn a_newer_search_with_the_same_token_cancels_the_older_one() {
    let env = Env::new().await;
    let root = env.work.path();
    for i in 0..2000 {
        touch(root, &format!("dir{}/file_{i}.txt", i % 20));
    }
    touch(root, "target_file.rs");
    let mut server = env.server(&[]).await;
    // The same tree 500 times: a million entries, far longer than the exchange below.
    let slow_roots = vec![root.display().to_string(); 500];
    let older = server
        .request(
            FuzzyFileSearch::NAME,
            json!({"query": "file", "roots": slow_roots, "cancellationToken": "typing"}),
        )
        .await;
    // Requests run concurrently; a round trip through another one lets the older search start.
    server
        .call::<FsGetMetadata>(json!({"path": root.display().to_string()}))
        .await;
    let newer = server
        .call::<FuzzyFileSearch>(json!({
            "query": "target", "roots": [root.display().to_string()], "cancellationToken": "typing"
        }))
        .await;
    assert_eq!(newer["files"][0]["path"], "target_file.rs", "{newer}");
    let older = server.response(&older).await;
    assert_eq!(older["result"]["files"], json!([]), "{older}");
}
