//! The blocking facade against our binary: a turn with a command whose approval is answered
//! from another OS thread, and a streamed turn as an iterator.

use super::harness::{exec, Env};
use codex_mock_model::{assistant_message, streamed_message};
use codex_sdk::blocking::Codex;
use codex_sdk::protocol::v2::{SandboxMode, TurnStatus};
use codex_sdk::{approval_queue, ApprovalMode, ApprovalRequest, ThreadOptions};

#[test]
fn the_blocking_client_runs_turns_and_a_deferred_approval_is_answered_from_another_thread() {
    // The mock model needs a runtime of its own; the blocking client brings its own too.
    let mock_runtime = tokio::runtime::Runtime::new().unwrap();
    let env = mock_runtime.block_on(Env::new());
    env.mock.enqueue(exec("r1", "call_1", "touch blocking.txt"));
    env.mock.enqueue(assistant_message("r2", "created it"));
    env.mock.enqueue(streamed_message("r3", &["one ", "two"]));

    let (handler, mut approvals) = approval_queue(1);
    let answering = std::thread::spawn(move || {
        let mut commands = Vec::new();
        while let Some(pending) = approvals.blocking_next() {
            if let ApprovalRequest::CommandExecution(p) = pending.request() {
                commands.push(p.command.clone());
            }
            pending.accept();
        }
        commands
    });
    let codex = Codex::launch(env.config().approval_handler(handler)).unwrap();
    assert!(!codex.metadata().user_agent.is_empty());
    let thread = codex
        .thread_start(
            ThreadOptions::default()
                .approval_mode(ApprovalMode::AskUser)
                .sandbox(SandboxMode::DangerFullAccess),
        )
        .unwrap();
    let result = thread.run("create the file").unwrap();
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response.as_deref(), Some("created it"));
    assert!(env.workspace_file("blocking.txt").exists());

    let turn = thread.turn("count").unwrap();
    let methods: Vec<String> = turn
        .stream()
        .map(|n| n.unwrap().method().to_string())
        .collect();
    assert_eq!(methods.first().map(String::as_str), Some("turn/started"));
    assert_eq!(methods.last().map(String::as_str), Some("turn/completed"));
    assert_eq!(
        methods
            .iter()
            .filter(|m| *m == "item/agentMessage/delta")
            .count(),
        2
    );
    let listed = codex.thread_list(Default::default()).unwrap();
    assert_eq!(listed.data.len(), 1);

    drop(thread);
    drop(codex);
    // Closing the client dropped the handler, which ends the other thread's queue.
    let commands = answering.join().unwrap();
    assert_eq!(commands.len(), 1);
    assert!(commands[0].contains("touch blocking.txt"), "{commands:?}");
    drop(env);
}
