//! Model calls against real servers: results, formatting, tool errors, timeouts, cancellation.

use super::support::*;
use codex_mcp::elicitation::BoxFuture;
use codex_mcp::{
    CallContext, ElicitationHandler, McpCallOutcome, McpCallTarget, McpManager, ServerElicitation,
};
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, McpServerElicitationRequestResponse, SandboxPolicy, ThreadItem,
};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const NEVER_FULL: (AskForApproval, SandboxPolicy) = (
    AskForApproval::Mode(ApprovalMode::Never),
    SandboxPolicy::DangerFullAccess,
);

/// Runs one model call with full access (no approvals) and returns the started item and outcome.
pub async fn call(
    manager: &McpManager,
    call_id: &str,
    target: McpCallTarget,
    arguments: &str,
    cancel: &CancellationToken,
) -> (Option<ThreadItem>, McpCallOutcome) {
    let asker = ScriptedAsker::new(vec![]);
    let call = manager.begin_call(call_id, target, arguments);
    let started = call.started_item();
    let outcome = call
        .run(CallContext {
            thread_id: "thread",
            turn_id: "turn",
            approval_policy: &NEVER_FULL.0,
            sandbox_policy: &NEVER_FULL.1,
            asker: &asker,
            cancel,
        })
        .await;
    assert!(asker.asked().is_empty(), "full access never asks");
    (started, outcome)
}

pub fn tool(server: &str, tool: &str) -> McpCallTarget {
    McpCallTarget::Tool {
        server: server.into(),
        tool: tool.into(),
    }
}

pub fn item_json(item: &Option<ThreadItem>) -> Value {
    serde_json::to_value(item.as_ref().expect("an item")).unwrap()
}

fn header_ok(part: &Value) {
    let text = part["text"].as_str().unwrap();
    assert!(
        text.starts_with("Wall time: ") && text.ends_with(" seconds\nOutput:"),
        "{text:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_call_and_its_formatted_output() {
    let h = harness(config(vec![("everything", everything()), ("time", time())]));
    let cancel = CancellationToken::new();
    h.manager.wait_ready(&cancel).await;

    let (started, outcome) = call(
        &h.manager,
        "call_1",
        tool("everything", "echo"),
        r#"{"message":"hi there"}"#,
        &cancel,
    )
    .await;
    assert_eq!(
        item_json(&started),
        json!({"type": "mcpToolCall", "id": "call_1", "server": "everything", "tool": "echo",
            "status": "inProgress", "arguments": {"message": "hi there"}, "appContext": null,
            "mcpAppUi": null, "pluginId": null, "readOnlyHint": true, "result": null,
            "error": null, "durationMs": null})
    );
    let done = item_json(&outcome.item);
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["result"],
        json!({"content": [{"type": "text", "text": "Echo: hi there"}],
               "structuredContent": null, "_meta": null})
    );
    assert!(done["durationMs"].as_i64().is_some());
    assert!(outcome.success);
    let parts = outcome.output.as_array().unwrap();
    assert_eq!(parts.len(), 2);
    header_ok(&parts[0]);
    assert_eq!(
        parts[1],
        json!({"type": "input_text", "text": "Echo: hi there"})
    );

    // Structured content: the header and that JSON as one string.
    let (_, outcome) = call(
        &h.manager,
        "call_2",
        tool("time", "get_current_time"),
        r#"{"timezone":"Etc/UTC"}"#,
        &cancel,
    )
    .await;
    let text = outcome.output.as_str().expect("a string output");
    let (head, body) = text.split_once("Output:\n").unwrap();
    assert!(head.starts_with("Wall time: "));
    let structured: Value = serde_json::from_str(body).unwrap();
    assert_eq!(structured["timezone"], "Etc/UTC");
    assert_eq!(
        item_json(&outcome.item)["result"]["structuredContent"],
        structured
    );

    // Images become input_image parts.
    let (_, outcome) = call(
        &h.manager,
        "call_3",
        tool("everything", "get-tiny-image"),
        "",
        &cancel,
    )
    .await;
    let image = outcome
        .output
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "input_image")
        .expect("an image part");
    assert!(image["image_url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,"));
    assert_eq!(image["detail"], "high");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_errors_fail_with_the_text_in_the_result() {
    let h = harness(config(vec![("everything", everything())]));
    let cancel = CancellationToken::new();
    let (_, outcome) = call(
        &h.manager,
        "c",
        tool("everything", "get-sum"),
        r#"{"a":"x"}"#,
        &cancel,
    )
    .await;
    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["error"], Value::Null);
    let text = item["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("Invalid arguments for tool get-sum"),
        "{text}"
    );
    assert!(!outcome.success);
    assert_eq!(
        outcome.output[1]["text"], text,
        "the model sees the same text"
    );

    // Arguments that are not JSON: no item, the parse error for the model.
    let (started, outcome) = call(
        &h.manager,
        "d",
        tool("everything", "echo"),
        "{not json",
        &cancel,
    )
    .await;
    assert!(started.is_none() && outcome.item.is_none());
    let message = outcome.output[1]["text"].as_str().unwrap();
    assert!(
        message.starts_with("err: key must be a string"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_timeout_fails_the_call_with_result_null() {
    let mut server = everything();
    server.tool_timeout = Duration::from_millis(500);
    let h = harness(config(vec![("everything", server)]));
    let cancel = CancellationToken::new();
    h.manager.wait_ready(&cancel).await;
    let (_, outcome) = call(
        &h.manager,
        "slow",
        tool("everything", "trigger-long-running-operation"),
        r#"{"duration": 30, "steps": 2}"#,
        &cancel,
    )
    .await;
    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["result"], Value::Null);
    assert_eq!(
        item["error"]["message"],
        "tool call error: tool call failed for `everything/trigger-long-running-operation`: timed out awaiting tools/call after 0.5s"
    );
    assert_eq!(outcome.output[1]["text"], item["error"]["message"]);

    // The server is still usable afterwards.
    let (_, outcome) = call(
        &h.manager,
        "after",
        tool("everything", "echo"),
        r#"{"message":"ok"}"#,
        &cancel,
    )
    .await;
    assert!(outcome.success);
}

/// Signals when a server elicitation arrives, then never answers it: the tool call that
/// triggered it is in flight at the server until cancelled.
struct StuckElicitations(Arc<Notify>);

impl ElicitationHandler for StuckElicitations {
    fn approval_policy(&self) -> AskForApproval {
        AskForApproval::Mode(ApprovalMode::OnRequest)
    }

    fn elicit(
        &self,
        _: ServerElicitation,
    ) -> BoxFuture<Option<McpServerElicitationRequestResponse>> {
        self.0.notify_one();
        Box::pin(std::future::pending())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_a_call_in_flight() {
    let in_flight = Arc::new(Notify::new());
    let (tx, _updates) = tokio::sync::mpsc::channel(16);
    let manager = McpManager::new(
        config(vec![("everything", everything())]),
        tx,
        Arc::new(StuckElicitations(Arc::clone(&in_flight))),
    );
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let canceller = async move {
        in_flight.notified().await;
        trigger.cancel();
    };
    // Bounded well below the 60 s tool timeout: only cancellation can end the call this soon.
    let ((started, outcome), ()) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(
            call(
                &manager,
                "stuck",
                tool("everything", "trigger-elicitation-request"),
                "{}",
                &cancel
            ),
            canceller
        )
    })
    .await
    .expect("the call returns once cancelled");
    assert_eq!(item_json(&started)["status"], "inProgress");
    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "failed");
    assert_eq!(
        item["error"]["message"],
        "tool call error: tool call failed for `everything/trigger-elicitation-request`: MCP request cancelled"
    );
}
