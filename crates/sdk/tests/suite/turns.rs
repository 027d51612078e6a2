//! Turns against our binary and the mock model: a full turn with a command, the order of a
//! streamed turn, steer, interrupt, and a failed turn.

use super::harness::{exec, input_contains, within, Env};
use codex_mock_model::{assistant_message, streamed_message, Reply};
use codex_sdk::protocol::methods::typed::ServerNotification;
use codex_sdk::protocol::v2::{
    CommandExecutionStatus, SandboxMode, ThreadItem, TurnStatus, UserInput,
};
use codex_sdk::{ApprovalMode, Error, Notification, ThreadOptions};

fn workspace_write() -> ThreadOptions {
    ThreadOptions::default()
        .sandbox(SandboxMode::WorkspaceWrite)
        .approval_mode(ApprovalMode::DenyAll)
}

#[tokio::test]
async fn a_turn_with_a_command_runs_it_and_returns_the_turn_result() {
    let env = Env::new().await;
    env.mock.enqueue(exec(
        "r1",
        "call_1",
        "echo hello from the sandbox > out.txt && cat out.txt",
    ));
    env.mock
        .enqueue(assistant_message("r2", "I wrote out.txt."));
    let codex = env.launch().await;
    assert!(!codex.metadata().user_agent.is_empty());
    assert_eq!(codex.metadata().server_name, "codex-rs-lean");
    let thread = codex.thread_start(workspace_write()).await.unwrap();
    let result = within("the turn", thread.run("write a file"))
        .await
        .unwrap();

    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response.as_deref(), Some("I wrote out.txt."));
    assert!(result.error.is_none());
    assert!(result.started_at.is_some() && result.completed_at.is_some());
    assert!(result.duration_ms.is_some());
    let usage = result.usage.expect("usage of the turn");
    assert!(usage.total.total_tokens > 0, "{usage:?}");
    let kinds: Vec<&str> = result
        .items
        .iter()
        .map(|item| match item {
            ThreadItem::UserMessage { .. } => "user",
            ThreadItem::CommandExecution { .. } => "command",
            ThreadItem::AgentMessage { .. } => "agent",
            _ => "other",
        })
        .filter(|k| *k != "other")
        .collect();
    assert_eq!(kinds, ["user", "command", "agent"], "{:?}", result.items);
    let command = result
        .items
        .iter()
        .find_map(|item| match item {
            ThreadItem::CommandExecution {
                status,
                exit_code,
                aggregated_output,
                ..
            } => Some((*status, *exit_code, aggregated_output.clone())),
            _ => None,
        })
        .unwrap();
    assert_eq!(command.0, CommandExecutionStatus::Completed);
    assert_eq!(command.1, Some(0));
    assert!(
        command
            .2
            .unwrap_or_default()
            .contains("hello from the sandbox"),
        "{:?}",
        result.items
    );
    let written = std::fs::read_to_string(env.workspace_file("out.txt")).unwrap();
    assert_eq!(written.trim(), "hello from the sandbox");
    codex.close().await;
}

#[tokio::test]
async fn a_streamed_turn_arrives_in_protocol_order_and_streams_once() {
    let env = Env::new().await;
    env.mock
        .enqueue(streamed_message("r1", &["Hel", "lo, ", "world"]));
    let codex = env.launch().await;
    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let turn = thread.turn("greet me").await.unwrap();
    let mut stream = turn.stream();
    let mut events = Vec::new();
    let mut text = String::new();
    while let Some(notification) = within("a notification", stream.next()).await {
        let notification = notification.unwrap();
        let label = match &notification {
            Notification::Known(ServerNotification::TurnStarted(n)) => {
                assert_eq!(n.turn.id, turn.id());
                "turn/started".to_string()
            }
            Notification::Known(ServerNotification::ItemStarted(n)) => {
                format!("started {}", kind(&n.item))
            }
            Notification::Known(ServerNotification::ItemCompleted(n)) => {
                format!("completed {}", kind(&n.item))
            }
            Notification::Known(ServerNotification::AgentMessageDelta(d)) => {
                text.push_str(&d.delta);
                "delta".to_string()
            }
            Notification::Known(ServerNotification::ThreadTokenUsageUpdated(_)) => {
                "usage".to_string()
            }
            Notification::Known(ServerNotification::TurnCompleted(n)) => {
                assert_eq!(n.turn.status, TurnStatus::Completed);
                "turn/completed".to_string()
            }
            other => other.method().to_string(),
        };
        events.push(label);
    }
    assert_eq!(text, "Hello, world");
    let at = |label: &str| {
        events
            .iter()
            .position(|e| e == label)
            .unwrap_or_else(|| panic!("{label} missing from {events:?}"))
    };
    assert_eq!(events.first().map(String::as_str), Some("turn/started"));
    assert_eq!(events.last().map(String::as_str), Some("turn/completed"));
    assert!(at("started user") < at("completed user"), "{events:?}");
    assert!(at("started agent") < at("delta"), "{events:?}");
    let last_delta = events.iter().rposition(|e| e == "delta").unwrap();
    assert!(last_delta < at("completed agent"), "{events:?}");
    assert!(at("usage") < at("turn/completed"), "{events:?}");
    assert!(
        stream.next().await.is_none(),
        "the stream ends after turn/completed"
    );
    let again = turn.stream().next().await;
    assert!(
        matches!(again, Some(Err(Error::AlreadyStreamed { .. }))),
        "{again:?}"
    );
    codex.close().await;
}

fn kind(item: &ThreadItem) -> &'static str {
    match item {
        ThreadItem::UserMessage { .. } => "user",
        ThreadItem::AgentMessage { .. } => "agent",
        ThreadItem::Reasoning { .. } => "reasoning",
        ThreadItem::CommandExecution { .. } => "command",
        _ => "other",
    }
}

#[tokio::test]
async fn steer_reaches_the_model_while_the_turn_runs() {
    let env = Env::new().await;
    env.enqueue_gated("r1", "working", " on it");
    env.mock.enqueue(assistant_message("r2", "steered answer"));
    let codex = env.launch().await;
    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let turn = thread.turn("start the task").await.unwrap();
    env.wait_model_requests(1).await;
    let steered = within("steer", turn.steer("also handle the STEERED case"))
        .await
        .unwrap();
    assert_eq!(steered.turn_id, turn.id());
    env.mock.release();
    let result = within("the turn", turn.run()).await.unwrap();
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response.as_deref(), Some("steered answer"));
    let steer_message = result.items.iter().any(|item| {
        matches!(item, ThreadItem::UserMessage { content, .. }
            if content.iter().any(|c| matches!(c, UserInput::Text { text, .. } if text.contains("STEERED"))))
    });
    assert!(steer_message, "{:?}", result.items);
    let bodies = env.wait_model_requests(2).await;
    assert!(!input_contains(&bodies[0], "STEERED"));
    assert!(input_contains(&bodies[1], "also handle the STEERED case"));
    // With the turn over there is nothing to steer.
    let late = turn.steer("too late").await.unwrap_err();
    assert!(late.rpc().is_some(), "{late}");
    codex.close().await;
}

#[tokio::test]
async fn interrupt_ends_the_turn_as_interrupted() {
    let env = Env::new().await;
    env.enqueue_gated("r1", "partial", " never sent");
    env.mock.enqueue(assistant_message("r2", "still works"));
    let codex = env.launch().await;
    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let turn = thread.turn("a long task").await.unwrap();
    // Interrupt from another task while this one streams, as an application would.
    let interrupter = turn.clone();
    env.wait_model_requests(1).await;
    let interrupted = tokio::spawn(async move { interrupter.interrupt().await });
    let result = within("the interrupted turn", turn.run()).await.unwrap();
    within("interrupt", interrupted).await.unwrap().unwrap();
    assert_eq!(result.status, TurnStatus::Interrupted);
    assert!(result.error.is_none());
    let next = within("the next turn", thread.run("next")).await.unwrap();
    assert_eq!(next.final_response.as_deref(), Some("still works"));
    codex.close().await;
}

#[tokio::test]
async fn a_failed_turn_is_an_error_with_the_servers_message_and_the_thread_goes_on() {
    let env = Env::new().await;
    env.mock.enqueue(Reply::status(500, "the model is on fire"));
    env.mock.enqueue(assistant_message("r2", "recovered"));
    let codex = env.launch().await;
    let thread = codex.thread_start(ThreadOptions::default()).await.unwrap();
    let err = within("the failing turn", thread.run("hi"))
        .await
        .unwrap_err();
    let Error::TurnFailed {
        turn_id,
        message,
        error,
    } = &err
    else {
        panic!("expected TurnFailed, got {err:?}");
    };
    assert!(!turn_id.is_empty());
    assert!(message.contains("the model is on fire"), "{message}");
    assert!(error.is_some());
    let next = within("the next turn", thread.run("again")).await.unwrap();
    assert_eq!(next.final_response.as_deref(), Some("recovered"));
    codex.close().await;
}
