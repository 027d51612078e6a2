//! Approvals: the request/notification order, decisions, session approvals and escalation.

use super::harness::{calls, Harness};
use codex_mock_model::{assistant_message, function_call};
use serde_json::{json, Value};

fn untrusted() -> Value {
    // Full access so the approved command runs the same with or without a kernel sandbox.
    json!({"approvalPolicy": "untrusted", "approvalsReviewer": "user", "sandbox": "danger-full-access"})
}

/// The decisions every command approval request offers.
fn all_decisions() -> Value {
    json!(["accept", "acceptForSession", "decline", "cancel"])
}

fn method(m: &Value) -> String {
    m["method"].as_str().unwrap_or_default().to_string()
}

/// Runs `touch <file>` under untrusted, answers the approval with `decision`, and returns the
/// finished turn.
async fn touch_with_decision(h: &mut Harness, file: &str, decision: Value) -> Value {
    let thread = h.thread(untrusted()).await;
    h.mock.enqueue(function_call(
        "r1",
        "call_appr_1",
        "exec_command",
        &json!({"cmd": format!("touch {file}"), "login": false, "tty": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    let turn_id = h.turn(&thread, "Create it").await;
    let (id, m, params) = h.request().await;
    assert_eq!(m, "item/commandExecution/requestApproval");
    assert_eq!(params["threadId"], thread);
    assert_eq!(params["turnId"], turn_id);
    assert_eq!(params["itemId"], "call_appr_1");
    assert!(params["startedAtMs"].is_i64());
    assert!(params.get("reason").is_none(), "{params}");
    assert_eq!(params["command"], format!("/bin/bash -c 'touch {file}'"));
    assert_eq!(params["cwd"], h.cwd.display().to_string());
    assert_eq!(
        params["commandActions"],
        json!([{"type": "unknown", "command": format!("touch {file}")}])
    );
    assert_eq!(
        params["proposedExecpolicyAmendment"],
        json!(["touch", file])
    );
    assert_eq!(params["availableDecisions"], all_decisions());
    h.reply(id, json!({"decision": decision}));
    h.turn_completed().await
}

/// The part of the log from `waitingOnApproval` on, as method names (statuses spelled out).
fn approval_sequence(h: &Harness) -> Vec<String> {
    h.log
        .iter()
        .skip_while(|m| {
            !(method(m) == "thread/status/changed"
                && m["params"]["status"]["activeFlags"] == json!(["waitingOnApproval"]))
        })
        .filter(|m| {
            let me = method(m);
            me != "item/commandExecution/outputDelta" && !me.starts_with("thread/tokenUsage")
        })
        .map(|m| match method(m).as_str() {
            "thread/status/changed" => format!(
                "status:{}",
                m["params"]["status"]["activeFlags"]
                    .as_array()
                    .map(|a| a.len().to_string())
                    .unwrap_or_else(|| m["params"]["status"]["type"].as_str().unwrap().into())
            ),
            "item/started" | "item/completed" => {
                format!(
                    "{}:{}",
                    method(m),
                    m["params"]["item"]["type"].as_str().unwrap()
                )
            }
            other => other.to_string(),
        })
        .take(6)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_runs_the_command_after_the_official_sequence() {
    let mut h = Harness::new().await;
    let turn = touch_with_decision(&mut h, "approved.txt", json!("accept")).await;
    assert_eq!(turn["status"], "completed");
    assert!(h.cwd.join("approved.txt").exists());
    assert_eq!(
        approval_sequence(&h),
        [
            "status:1",
            "item/started:commandExecution",
            "item/commandExecution/requestApproval",
            "serverRequest/resolved",
            "status:0",
            "item/completed:commandExecution",
        ]
    );
    let started = &h.items("item/started", "commandExecution")[0];
    assert_eq!(started["source"], "agent");
    assert!(started["processId"].is_null());
    let done = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(done["status"], "completed");
    assert_eq!(h.seen("serverRequest/resolved")[0]["requestId"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_reports_rejection_and_the_turn_continues() {
    let mut h = Harness::new().await;
    let turn = touch_with_decision(&mut h, "declined.txt", json!("decline")).await;
    assert_eq!(turn["status"], "completed");
    assert!(!h.cwd.join("declined.txt").exists());
    assert_eq!(
        approval_sequence(&h),
        [
            "status:1",
            "item/started:commandExecution",
            "item/commandExecution/requestApproval",
            "serverRequest/resolved",
            "item/completed:commandExecution",
            "status:0",
        ]
    );
    let done = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(done["status"], "declined");
    assert!(done["aggregatedOutput"].is_null() && done["exitCode"].is_null());
    assert_eq!(
        h.output_text("call_appr_1"),
        "exec command rejected by user"
    );
    assert_eq!(h.model_requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_declines_and_interrupts_the_turn() {
    let mut h = Harness::new().await;
    let turn = touch_with_decision(&mut h, "cancelled.txt", json!("cancel")).await;
    assert_eq!(turn["status"], "interrupted");
    assert!(!h.cwd.join("cancelled.txt").exists());
    assert_eq!(
        h.items("item/completed", "commandExecution")[0]["status"],
        "declined"
    );
    // No further model request after the cancel.
    assert_eq!(h.model_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_reply_declines() {
    let mut h = Harness::new().await;
    let thread = h.thread(untrusted()).await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "touch e.txt", "login": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn(&thread, "go").await;
    let (id, _, _) = h.request().await;
    h.client.resolve(
        &codex_protocol::jsonrpc::RequestId::Integer(id),
        Err(codex_protocol::jsonrpc::JsonRpcErrorBody {
            code: -32000,
            message: "nope".into(),
            data: None,
        }),
    );
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert!(!h.cwd.join("e.txt").exists());
    assert_eq!(h.output_text("c1"), "exec command rejected by user");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_for_session_remembers_the_command_and_safe_commands_skip() {
    let mut h = Harness::new().await;
    let thread = h.thread(untrusted()).await;
    let touch = json!({"cmd": "touch s.txt", "login": false});
    h.mock
        .enqueue(function_call("r1", "c1", "exec_command", &touch));
    h.mock.enqueue(calls(
        "r2",
        &[
            ("c2", "exec_command", touch.clone()),
            ("c3", "exec_command", json!({"cmd": "ls", "login": false})),
        ],
    ));
    h.mock.enqueue(assistant_message("r3", "ok"));
    h.turn(&thread, "go").await;
    let (id, _, _) = h.request().await;
    h.reply(id, json!({"decision": "acceptForSession"}));
    assert_eq!(h.turn_completed().await["status"], "completed");
    let requests = h
        .log
        .iter()
        .filter(|m| m.get("id").is_some() && m.get("method").is_some())
        .count();
    assert_eq!(requests, 1, "only the first run asks");
    let done = h.items("item/completed", "commandExecution");
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|i| i["status"] == "completed"), "{done:#?}");
    let ls = h.output_text("c3");
    assert!(ls.contains("s.txt"), "{ls}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_asks_under_on_request_and_is_refused_under_never() {
    let mut h = Harness::new().await;
    let thread = h
        .thread(json!({"approvalPolicy": "on-request", "sandbox": "danger-full-access"}))
        .await;
    let args = json!({
        "cmd": "touch esc.txt", "login": false,
        "sandbox_permissions": "require_escalated", "justification": "needs to write esc.txt"
    });
    h.mock
        .enqueue(function_call("r1", "c1", "exec_command", &args));
    h.mock.enqueue(function_call(
        "r2",
        "c2",
        "exec_command",
        &json!({"cmd": "touch plain.txt", "login": false}),
    ));
    h.mock.enqueue(assistant_message("r3", "ok"));
    h.turn(&thread, "go").await;
    let (id, _, params) = h.request().await;
    assert_eq!(params["reason"], "needs to write esc.txt");
    assert_eq!(params["availableDecisions"], all_decisions());
    h.reply(
        id,
        json!({"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["touch"]}}}),
    );
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert!(h.cwd.join("esc.txt").exists());
    // A plain command under on-request runs without asking.
    assert!(h.cwd.join("plain.txt").exists());

    let never = h
        .thread(json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}))
        .await;
    let args = json!({"cmd": "touch never.txt", "login": false, "sandbox_permissions": "require_escalated"});
    h.mock
        .enqueue(function_call("r4", "c4", "exec_command", &args));
    h.mock.enqueue(assistant_message("r5", "ok"));
    h.turn(&never, "go").await;
    h.turn_completed().await;
    assert_eq!(
        h.output_text("c4"),
        "approval policy is Never; reject command — you cannot ask for escalated permissions if the approval policy is Never"
    );
    assert!(!h.cwd.join("never.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_while_waiting_resolves_the_request() {
    let mut h = Harness::new().await;
    let thread = h.thread(untrusted()).await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "touch w.txt", "login": false}),
    ));
    let turn_id = h.turn(&thread, "go").await;
    let (id, _, _) = h.request().await;
    h.interrupt(&thread, &turn_id).await;
    assert_eq!(h.turn_completed().await["status"], "interrupted");
    assert_eq!(h.seen("serverRequest/resolved")[0]["requestId"], id);
    assert!(!h.cwd.join("w.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_failure_asks_to_rerun_without_the_sandbox_after_a_denial() {
    super::harness::require_sandbox();
    let mut h = Harness::new().await;
    let thread = h
        .thread(json!({"approvalPolicy": "on-failure", "sandbox": "read-only"}))
        .await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "touch retry.txt", "login": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn(&thread, "go").await;
    let (id, method, params) = h.request().await;
    assert_eq!(method, "item/commandExecution/requestApproval");
    assert_eq!(params["reason"], "command failed; retry without sandbox?");
    // The denied sandboxed attempt did not write the file.
    assert!(!h.cwd.join("retry.txt").exists());
    h.reply(id, json!({"decision": "accept"}));
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert!(h.cwd.join("retry.txt").exists());
    let done = h.items("item/completed", "commandExecution");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["status"], "completed");
    assert!(h
        .output_text("c1")
        .contains("\nProcess exited with code 0\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_request_carries_the_justification_as_reason() {
    let mut h = Harness::new().await;
    let thread = h.thread(untrusted()).await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "touch why.txt", "login": false, "justification": "record why"}),
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn(&thread, "go").await;
    let (id, method, params) = h.request().await;
    assert_eq!(method, "item/commandExecution/requestApproval");
    assert_eq!(params["reason"], "record why");
    assert_eq!(params["availableDecisions"], all_decisions());
    h.reply(id, json!({"decision": "decline"}));
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert!(
        !h.cwd.join("why.txt").exists(),
        "a declined command must not run"
    );
}
