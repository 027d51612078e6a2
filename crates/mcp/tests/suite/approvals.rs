//! Approval paths with server-filesystem's annotated tools (`write_file` is destructive,
//! `read_text_file` read-only).

use super::calls::{item_json, tool};
use super::support::*;
use codex_mcp::approval::{DECLINED_MESSAGE, REFUSED_UNDER_NEVER};
use codex_mcp::{CallContext, McpCallOutcome, McpManager, ToolApprovalMode};
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, McpServerElicitationRequest, SandboxPolicy,
};
use serde_json::{json, Value};
use std::path::Path;
use tokio_util::sync::CancellationToken;

const READ_ONLY: SandboxPolicy = SandboxPolicy::ReadOnly {
    network_access: false,
};

async fn run(
    manager: &McpManager,
    asker: &ScriptedAsker,
    policy: ApprovalMode,
    call_id: &str,
    name: &str,
    arguments: Value,
) -> McpCallOutcome {
    let policy = AskForApproval::Mode(policy);
    manager
        .begin_call(call_id, tool("fs", name), &arguments.to_string())
        .run(CallContext {
            thread_id: "thread-1",
            turn_id: "turn-1",
            approval_policy: &policy,
            sandbox_policy: &READ_ONLY,
            asker,
            cancel: &CancellationToken::new(),
        })
        .await
}

fn write_args(root: &Path, name: &str) -> Value {
    json!({"path": root.join(name).to_string_lossy(), "content": "hello"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_tools_ask_and_a_decline_is_reported() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    let h = harness(config(vec![("fs", filesystem(&root))]));
    h.manager.wait_ready(&CancellationToken::new()).await;
    let asker = ScriptedAsker::new(vec![json!({"action": "decline", "content": null})]);

    let args = write_args(&root, "a.txt");
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "c1",
        "write_file",
        args.clone(),
    )
    .await;
    let asked = asker.asked();
    assert_eq!(asked.len(), 1);
    let request = serde_json::to_value(&asked[0]).unwrap();
    assert_eq!(request["threadId"], "thread-1");
    assert_eq!(request["turnId"], "turn-1");
    assert_eq!(request["serverName"], "fs");
    assert_eq!(request["mode"], "form");
    assert_eq!(
        request["message"],
        "Allow the fs MCP server to run tool \"write_file\"?"
    );
    assert_eq!(
        request["requestedSchema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(request["_meta"]["codex_approval_kind"], "mcp_tool_call");
    assert_eq!(request["_meta"]["tool_title"], "Write File");
    assert_eq!(request["_meta"]["tool_params"], args);

    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["result"], Value::Null);
    assert_eq!(item["error"]["message"], DECLINED_MESSAGE);
    assert_eq!(item["readOnlyHint"], false);
    assert_eq!(outcome.output[1]["text"], DECLINED_MESSAGE);
    assert!(!root.join("a.txt").exists(), "nothing was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_runs_and_accept_for_session_stops_asking() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    let h = harness(config(vec![("fs", filesystem(&root))]));
    h.manager.wait_ready(&CancellationToken::new()).await;
    let asker = ScriptedAsker::new(vec![
        json!({"action": "accept", "content": null}),
        json!({"action": "accept", "content": null, "_meta": {"persist": "session"}}),
    ]);

    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "c1",
        "write_file",
        write_args(&root, "a.txt"),
    )
    .await;
    assert_eq!(item_json(&outcome.item)["status"], "completed");
    assert!(root.join("a.txt").exists());
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "c2",
        "write_file",
        write_args(&root, "b.txt"),
    )
    .await;
    assert_eq!(item_json(&outcome.item)["status"], "completed");
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "c3",
        "write_file",
        write_args(&root, "c.txt"),
    )
    .await;
    assert_eq!(item_json(&outcome.item)["status"], "completed");
    assert_eq!(
        asker.asked().len(),
        2,
        "the session approval covers the third call"
    );
    assert!(root.join("c.txt").exists());

    // A read-only tool never asks.
    let path = root.join("a.txt").to_string_lossy().into_owned();
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "c4",
        "read_text_file",
        json!({"path": path}),
    )
    .await;
    assert!(outcome.success);
    assert_eq!(asker.asked().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_refuses_without_asking_and_modes_override() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().canonicalize().unwrap();
    let mut fs = filesystem(&root);
    fs.tools.insert(
        "edit_file".into(),
        codex_mcp::config::McpToolConfig {
            approval_mode: ToolApprovalMode::Approve,
        },
    );
    fs.tools.insert(
        "list_directory".into(),
        codex_mcp::config::McpToolConfig {
            approval_mode: ToolApprovalMode::Prompt,
        },
    );
    let h = harness(config(vec![("fs", fs)]));
    h.manager.wait_ready(&CancellationToken::new()).await;
    let asker = ScriptedAsker::new(vec![json!({"action": "cancel"})]);

    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::Never,
        "n1",
        "write_file",
        write_args(&root, "n.txt"),
    )
    .await;
    let item = item_json(&outcome.item);
    assert_eq!(item["error"]["message"], REFUSED_UNDER_NEVER);
    assert_eq!(outcome.output[1]["text"], REFUSED_UNDER_NEVER);
    assert!(asker.asked().is_empty(), "refused without asking");
    assert!(!root.join("n.txt").exists());

    // approval_mode = "approve": a destructive tool runs without asking, even under never.
    std::fs::write(root.join("e.txt"), "x").unwrap();
    let edit = json!({"path": root.join("e.txt").to_string_lossy(),
                      "edits": [{"oldText": "x", "newText": "y"}]});
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::Never,
        "n2",
        "edit_file",
        edit,
    )
    .await;
    assert_eq!(item_json(&outcome.item)["status"], "completed");
    assert_eq!(std::fs::read_to_string(root.join("e.txt")).unwrap(), "y");

    // approval_mode = "prompt": a read-only tool asks, without a session option; cancel.
    let outcome = run(
        &h.manager,
        &asker,
        ApprovalMode::OnRequest,
        "n3",
        "list_directory",
        json!({"path": root.to_string_lossy()}),
    )
    .await;
    let asked = asker.asked();
    assert_eq!(asked.len(), 1);
    let McpServerElicitationRequest::Form { meta, .. } = &asked[0].request else {
        panic!("a form request");
    };
    assert!(meta.as_ref().unwrap().get("persist").is_none());
    assert_eq!(
        item_json(&outcome.item)["error"]["message"],
        "user cancelled MCP tool call"
    );
}
