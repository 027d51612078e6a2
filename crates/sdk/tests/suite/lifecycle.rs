//! The thread lifecycle against our binary: start, name, read, list, archive, unarchive, fork,
//! resume in a new client, compact; and `model/list`.

use super::harness::{input_contains, within, Env};
use codex_mock_model::assistant_message;
use codex_sdk::protocol::v2::{ThreadItem, ThreadListParams};
use codex_sdk::{Codex, ThreadOptions};
use serde_json::json;

async fn listed(codex: &Codex, archived: bool) -> Vec<String> {
    let page = codex
        .thread_list(ThreadListParams {
            archived: Some(archived),
            ..ThreadListParams::default()
        })
        .await
        .unwrap();
    page.data.into_iter().map(|t| t.id).collect()
}

#[tokio::test]
async fn threads_are_named_read_listed_archived_forked_resumed_and_compacted() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "first answer"));
    let codex = env.launch().await;
    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let first = within("the first turn", thread.run("first question"))
        .await
        .unwrap();
    assert_eq!(first.final_response.as_deref(), Some("first answer"));

    thread.set_name("sdk integration thread").await.unwrap();
    let read = thread.read(true).await.unwrap();
    assert_eq!(read.thread.id, thread.id());
    assert_eq!(read.thread.name.as_deref(), Some("sdk integration thread"));
    assert_eq!(read.thread.turns.len(), 1);
    let texts: Vec<String> = read.thread.turns[0]
        .items
        .iter()
        .filter_map(|item| match item {
            ThreadItem::AgentMessage { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["first answer"]);
    let by_id = codex.thread_read(thread.id(), false).await.unwrap();
    assert!(by_id.thread.turns.is_empty(), "turns only when asked for");

    assert!(listed(&codex, false)
        .await
        .contains(&thread.id().to_string()));
    codex.thread_archive(thread.id()).await.unwrap();
    assert!(listed(&codex, true)
        .await
        .contains(&thread.id().to_string()));
    assert!(!listed(&codex, false)
        .await
        .contains(&thread.id().to_string()));
    let restored = codex.thread_unarchive(thread.id()).await.unwrap();
    assert_eq!(restored, thread);
    assert!(listed(&codex, false)
        .await
        .contains(&thread.id().to_string()));

    let fork = codex
        .thread_fork(thread.id(), ThreadOptions::default())
        .await
        .unwrap();
    assert_ne!(fork.id(), thread.id());
    let forked = fork.read(true).await.unwrap();
    assert_eq!(forked.thread.forked_from_id.as_deref(), Some(thread.id()));
    assert_eq!(forked.thread.turns.len(), 1);

    let models = codex.models(false).await.unwrap();
    assert!(
        models.data.iter().any(|m| m.id == "mock-model"),
        "{models:?}"
    );
    codex.close().await;

    // A new client (a new server process) resumes the thread from disk.
    env.mock.enqueue(assistant_message("r2", "second answer"));
    let codex = env.launch().await;
    let resumed = codex
        .thread_resume(thread.id(), ThreadOptions::default())
        .await
        .unwrap();
    let second = within("the resumed turn", resumed.run("second question"))
        .await
        .unwrap();
    assert_eq!(second.final_response.as_deref(), Some("second answer"));
    let bodies = env.wait_model_requests(2).await;
    assert!(
        input_contains(&bodies[1], "first question"),
        "{}",
        bodies[1]
    );
    assert!(input_contains(&bodies[1], "second question"));

    env.mock.enqueue(assistant_message("sum", "SUMMARY"));
    resumed.compact().await.unwrap();
    let bodies = env.wait_model_requests(3).await;
    assert_eq!(bodies[2]["tools"], json!([]), "the summary request");
    codex.close().await;
}
