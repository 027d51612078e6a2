//! Approvals against our binary: a command the model wants to run under `untrusted` is
//! accepted, declined, or answered later from another task.

use super::harness::{exec, within, Env};
use codex_mock_model::assistant_message;
use codex_sdk::protocol::v2::{CommandExecutionStatus, SandboxMode, ThreadItem, TurnStatus};
use codex_sdk::{
    approval_queue, ApprovalDecision, ApprovalMode, ApprovalRequest, Codex, ThreadOptions,
    TurnResult,
};
use std::sync::{Arc, Mutex};

fn ask_user() -> ThreadOptions {
    // Full access, so an approved command runs the same with or without a kernel sandbox.
    ThreadOptions::default()
        .approval_mode(ApprovalMode::AskUser)
        .sandbox(SandboxMode::DangerFullAccess)
}

fn command_status(result: &TurnResult) -> CommandExecutionStatus {
    result
        .items
        .iter()
        .find_map(|item| match item {
            ThreadItem::CommandExecution { status, .. } => Some(*status),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no command item in {:?}", result.items))
}

async fn touch_turn(env: &Env, codex: &Codex, file: &str) -> TurnResult {
    env.mock
        .enqueue(exec("r1", "call_1", &format!("touch {file}")));
    env.mock.enqueue(assistant_message("r2", "done"));
    let thread = codex.thread_start(ask_user()).await.unwrap();
    within("the turn", thread.run("create the file"))
        .await
        .unwrap()
}

#[tokio::test]
async fn an_accepted_command_runs_and_the_handler_saw_the_request() {
    let env = Env::new().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let config = env
        .config()
        .approval_handler(move |request: ApprovalRequest| {
            log.lock().unwrap().push(request);
            async { ApprovalDecision::Accept }
        });
    let codex = env.launch_with(config).await;
    let result = touch_turn(&env, &codex, "approved.txt").await;
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(command_status(&result), CommandExecutionStatus::Completed);
    assert!(env.workspace_file("approved.txt").exists());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let ApprovalRequest::CommandExecution(asked) = &seen[0] else {
        panic!("{:?}", seen[0]);
    };
    assert!(asked.command.contains("touch approved.txt"), "{asked:?}");
    assert_eq!(asked.item_id, "call_1");
    assert_eq!(asked.turn_id, result.id);
    codex.close().await;
}

#[tokio::test]
async fn a_declined_command_does_not_run_and_the_turn_goes_on() {
    let env = Env::new().await;
    let config = env
        .config()
        .approval_handler(|_: ApprovalRequest| async { ApprovalDecision::Decline });
    let codex = env.launch_with(config).await;
    let result = touch_turn(&env, &codex, "declined.txt").await;
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(command_status(&result), CommandExecutionStatus::Declined);
    assert_eq!(result.final_response.as_deref(), Some("done"));
    assert!(!env.workspace_file("declined.txt").exists());
    codex.close().await;
}

#[tokio::test]
async fn without_a_handler_the_default_decision_answers() {
    let env = Env::new().await;
    let config = env.config().approval_default(ApprovalDecision::Decline);
    let codex = env.launch_with(config).await;
    let result = touch_turn(&env, &codex, "default.txt").await;
    assert_eq!(command_status(&result), CommandExecutionStatus::Declined);
    assert!(!env.workspace_file("default.txt").exists());
    codex.close().await;
}

#[tokio::test]
async fn a_deferred_approval_is_answered_later_from_another_task() {
    let env = Env::new().await;
    let (handler, mut approvals) = approval_queue(4);
    let codex = env
        .launch_with(env.config().approval_handler(handler))
        .await;
    env.mock.enqueue(exec("r1", "call_1", "touch deferred.txt"));
    env.mock.enqueue(assistant_message("r2", "done"));
    let thread = codex.thread_start(ask_user()).await.unwrap();
    let running = tokio::spawn(async move { thread.run("create the file").await });

    let pending = within("the approval", approvals.next()).await.unwrap();
    assert!(matches!(
        pending.request(),
        ApprovalRequest::CommandExecution(p) if p.command.contains("touch deferred.txt")
    ));
    // The turn waits for the answer: the command has not run and the model was asked once.
    assert!(!running.is_finished());
    assert!(!env.workspace_file("deferred.txt").exists());
    assert_eq!(env.model_requests().len(), 1);
    // Answered from yet another task, as a UI would.
    tokio::spawn(async move { pending.accept() });

    let result = within("the turn", running).await.unwrap().unwrap();
    assert_eq!(command_status(&result), CommandExecutionStatus::Completed);
    assert!(env.workspace_file("deferred.txt").exists());
    codex.close().await;
}
