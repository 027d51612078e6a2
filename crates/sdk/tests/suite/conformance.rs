//! Conformance (cargo feature `conformance`): the SDK against the binary named by
//! `CODEX_CONFORMANCE_BIN`. `scripts/conformance` runs these against the official 0.163 binary
//! (`codex_cli_bin.bundled_codex_path()` of the official Python package), which also proves the
//! client-tool scenario end to end. Against ours, once it serves `dynamicTools`:
//!
//! ```sh
//! CODEX_CONFORMANCE_BIN=target/debug/codex cargo test -p codex-sdk --features conformance conformance
//! ```

use super::harness::{exec, tool_outputs, within, Env};
use codex_mock_model::{assistant_message, function_call, streamed_message};
use codex_sdk::protocol::v2::{
    CommandExecutionStatus, SandboxMode, ThreadItem, TurnStatus, UserInput,
};
use codex_sdk::{ApprovalDecision, ApprovalMode, ApprovalRequest, ThreadOptions, Tool, TurnResult};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn binary_under_test() -> PathBuf {
    let Some(bin) = std::env::var_os("CODEX_CONFORMANCE_BIN") else {
        panic!(
            "CODEX_CONFORMANCE_BIN must name the codex binary under test \
             (scripts/conformance sets it to the official binary)"
        );
    };
    let bin = PathBuf::from(bin);
    assert!(
        bin.is_file(),
        "CODEX_CONFORMANCE_BIN={} is not a file",
        bin.display()
    );
    bin
}

fn agent_texts(result: &TurnResult) -> Vec<String> {
    result
        .items
        .iter()
        .filter_map(|item| match item {
            ThreadItem::AgentMessage { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn happy_path_start_run_stream_read_list_and_models() {
    let env = Env::with_binary(binary_under_test()).await;
    env.mock
        .enqueue(streamed_message("r1", &["The answer", " is 42."]));
    let codex = env.launch().await;
    let metadata = codex.metadata();
    assert!(!metadata.user_agent.is_empty());
    assert!(!metadata.server_name.is_empty() && !metadata.server_version.is_empty());

    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let result = within("the turn", thread.run("What is the answer?"))
        .await
        .unwrap();
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response.as_deref(), Some("The answer is 42."));
    assert_eq!(agent_texts(&result), ["The answer is 42."]);
    let asked = result.items.iter().any(|item| {
        matches!(item, ThreadItem::UserMessage { content, .. }
            if content.iter().any(|c| matches!(c, UserInput::Text { text, .. } if text == "What is the answer?")))
    });
    assert!(asked, "{:?}", result.items);
    assert!(result.usage.is_some_and(|u| u.total.total_tokens > 0));
    assert!(result.started_at.is_some() && result.completed_at.is_some());

    thread.set_name("rust sdk conformance").await.unwrap();
    let read = thread.read(true).await.unwrap();
    assert_eq!(read.thread.name.as_deref(), Some("rust sdk conformance"));
    assert_eq!(read.thread.turns.len(), 1);
    let listed = codex.thread_list(Default::default()).await.unwrap();
    assert!(listed.data.iter().any(|t| t.id == thread.id()));
    let models = codex.models(true).await.unwrap();
    assert!(!models.data.is_empty());
    codex.close().await;
}

#[tokio::test]
async fn a_command_runs_after_the_handler_accepts_it() {
    let env = Env::with_binary(binary_under_test()).await;
    env.mock.enqueue(exec("r1", "call_1", "touch approved.txt"));
    env.mock.enqueue(assistant_message("r2", "created"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let config = env
        .config()
        .approval_handler(move |request: ApprovalRequest| {
            log.lock().unwrap().push(request);
            async { ApprovalDecision::Accept }
        });
    let codex = env.launch_with(config).await;
    let thread = codex
        .thread_start(
            ThreadOptions::default()
                .approval_mode(ApprovalMode::AskUser)
                .sandbox(SandboxMode::WorkspaceWrite),
        )
        .await
        .unwrap();
    let result = within("the turn", thread.run("create approved.txt"))
        .await
        .unwrap();
    assert_eq!(result.final_response.as_deref(), Some("created"));
    let status = result.items.iter().find_map(|item| match item {
        ThreadItem::CommandExecution { status, .. } => Some(*status),
        _ => None,
    });
    assert_eq!(status, Some(CommandExecutionStatus::Completed));
    assert!(env.workspace_file("approved.txt").exists());
    let seen = seen.lock().unwrap().clone();
    assert!(
        matches!(seen.as_slice(), [ApprovalRequest::CommandExecution(p)] if p.command.contains("touch approved.txt")),
        "{seen:?}"
    );
    codex.close().await;
}

#[derive(Deserialize, JsonSchema)]
struct Add {
    /// The first term.
    a: i64,
    /// The second term.
    b: i64,
}

#[tokio::test]
async fn a_client_tool_is_called_and_its_answer_reaches_the_model() {
    let env = Env::with_binary(binary_under_test()).await;
    env.mock.enqueue(function_call(
        "r1",
        "call_add",
        "add",
        &json!({"a": 2, "b": 3}),
    ));
    env.mock.enqueue(assistant_message("r2", "The sum is 5."));
    let codex = env.launch().await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let add = Tool::typed("add", "Add two integers.", move |args: Add| {
        log.lock().unwrap().push((args.a, args.b));
        async move { (args.a + args.b).to_string() }
    });
    let thread = codex
        .thread_start(ThreadOptions::default().tool(add))
        .await
        .unwrap();
    let result = within("the turn", thread.run("What is 2 + 3? Use the tool."))
        .await
        .unwrap();
    assert_eq!(result.final_response.as_deref(), Some("The sum is 5."));
    assert_eq!(*calls.lock().unwrap(), [(2, 3)]);
    let bodies = env.wait_model_requests(2).await;
    let advertised = bodies[0]["tools"].to_string();
    assert!(advertised.contains("\"add\""), "{advertised}");
    let outputs = tool_outputs(&bodies[1]);
    assert_eq!(outputs.len(), 1, "{}", bodies[1]);
    assert_eq!(outputs[0]["call_id"], "call_add");
    assert!(
        outputs[0]["output"].to_string().contains('5'),
        "{}",
        outputs[0]
    );
    codex.close().await;
}
