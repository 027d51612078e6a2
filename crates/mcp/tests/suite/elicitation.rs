//! Elicitations a server sends itself (server-everything's `trigger-elicitation-request`).

use super::calls::{call, item_json, tool};
use super::support::*;
use codex_protocol::v2::{ApprovalMode, McpServerElicitationRequest};
use serde_json::json;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_elicitations_reach_the_handler_with_the_servers_schema() {
    let answer =
        serde_json::from_value(json!({"action": "accept", "content": {"color": "red"}})).unwrap();
    let h = harness_with(
        config(vec![("everything", everything())]),
        RecordingElicitations::answering(Some(answer), ApprovalMode::OnRequest),
    );
    let cancel = CancellationToken::new();
    let (_, outcome) = call(
        &h.manager,
        "e1",
        tool("everything", "trigger-elicitation-request"),
        "{}",
        &cancel,
    )
    .await;

    let seen = h.elicitations.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].server_name, "everything");
    let McpServerElicitationRequest::Form {
        message,
        requested_schema,
        ..
    } = &seen[0].request
    else {
        panic!("a form elicitation: {:?}", seen[0]);
    };
    assert!(!message.is_empty());
    assert_eq!(requested_schema["type"], "object");
    assert_eq!(requested_schema["properties"]["check"]["type"], "boolean");

    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "completed");
    let texts: Vec<&str> = item["result"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"].as_str())
        .collect();
    assert!(texts.iter().any(|t| t.contains("red")), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_never_server_elicitations_are_declined_unasked() {
    let answer = serde_json::from_value(json!({"action": "accept", "content": {}})).unwrap();
    let h = harness_with(
        config(vec![("everything", everything())]),
        RecordingElicitations::answering(Some(answer), ApprovalMode::Never),
    );
    let cancel = CancellationToken::new();
    let (_, outcome) = call(
        &h.manager,
        "e2",
        tool("everything", "trigger-elicitation-request"),
        "{}",
        &cancel,
    )
    .await;
    assert!(
        h.elicitations.seen.lock().unwrap().is_empty(),
        "nobody was asked"
    );
    let text = serde_json::to_string(&item_json(&outcome.item)["result"]).unwrap();
    assert!(text.contains("declined"), "{text}");
}
