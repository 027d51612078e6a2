//! The runtime in-process (feature `embedded`): no subprocess, the same framing over an
//! in-memory pipe.

use super::harness::{exec, within, Env};
use codex_mock_model::assistant_message;
use codex_sdk::protocol::v2::{SandboxMode, ThreadItem, TurnStatus};
use codex_sdk::{ApprovalMode, Codex, ThreadOptions};

#[tokio::test]
async fn an_embedded_runtime_runs_a_turn_with_a_command() {
    let env = Env::new().await;
    env.mock
        .enqueue(exec("r1", "call_1", "echo embedded > in-process.txt"));
    env.mock.enqueue(assistant_message("r2", "done in-process"));
    let codex = within("the embedded runtime", Codex::embedded(env.config()))
        .await
        .unwrap();
    assert_eq!(codex.metadata().server_name, "codex-rs-lean");
    assert_eq!(
        codex.metadata().codex_home.as_deref(),
        Some(env.home.path())
    );
    let thread = codex
        .thread_start(
            ThreadOptions::default()
                .approval_mode(ApprovalMode::DenyAll)
                .sandbox(SandboxMode::WorkspaceWrite),
        )
        .await
        .unwrap();
    let result = within("the turn", thread.run("write it")).await.unwrap();
    assert_eq!(result.status, TurnStatus::Completed);
    assert_eq!(result.final_response.as_deref(), Some("done in-process"));
    assert!(result.items.iter().any(|i| matches!(
        i,
        ThreadItem::CommandExecution {
            exit_code: Some(0),
            ..
        }
    )));
    let written = std::fs::read_to_string(env.workspace_file("in-process.txt")).unwrap();
    assert_eq!(written.trim(), "embedded");
    within("close", codex.close()).await;
}

#[tokio::test]
async fn a_bad_embedded_configuration_is_an_error_at_start() {
    let env = Env::new().await;
    let config = env
        .config()
        .config_override("model_providers.mock.wire_api=\"grpc\"");
    let err = Codex::embedded(config).await.unwrap_err();
    assert!(matches!(err, codex_sdk::Error::Embedded(_)), "{err:?}");
}
