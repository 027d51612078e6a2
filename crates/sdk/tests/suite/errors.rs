//! Errors against real processes: a JSON-RPC error answer, a server that dies at start-up or
//! in the middle of a turn (with its stderr and exit status), a missing binary, a bad tool, a
//! closed client.

use super::harness::{exec, within, Env};
use codex_sdk::protocol::v2::SandboxMode;
use codex_sdk::{ApprovalMode, Codex, CodexConfig, Error, ThreadOptions, Tool};
use serde_json::json;
use std::os::unix::process::ExitStatusExt;

#[tokio::test]
async fn an_unknown_thread_is_a_json_rpc_error_with_code_and_message() {
    let env = Env::new().await;
    let codex = env.launch().await;
    let err = codex
        .thread_read("00000000-0000-4000-8000-000000000000", false)
        .await
        .unwrap_err();
    let rpc = err
        .rpc()
        .unwrap_or_else(|| panic!("expected Rpc, got {err:?}"));
    assert!(rpc.is_invalid_request(), "{rpc}");
    assert!(
        rpc.message.contains("00000000-0000-4000-8000-000000000000"),
        "{rpc}"
    );
    // The connection is still usable.
    codex.thread_start(ThreadOptions::default()).await.unwrap();
    codex.close().await;
}

#[tokio::test]
async fn a_server_that_dies_at_start_up_reports_its_stderr_and_exit_status() {
    let config = CodexConfig {
        launch_args_override: Some(vec![
            "/bin/sh".into(),
            "-c".into(),
            "echo 'error: config.toml: bad value' >&2; exit 3".into(),
        ]),
        ..CodexConfig::default()
    };
    let err = within("launch", Codex::launch(config)).await.unwrap_err();
    let Error::TransportClosed(closed) = &err else {
        panic!("expected TransportClosed, got {err:?}");
    };
    assert_eq!(closed.stderr_tail, "error: config.toml: bad value");
    assert_eq!(closed.exit_status.and_then(|s| s.code()), Some(3));
    assert!(err
        .to_string()
        .contains("stderr tail:\nerror: config.toml: bad value"));
}

#[tokio::test]
async fn a_server_killed_during_a_turn_ends_the_turn_with_transport_closed() {
    let env = Env::new().await;
    // The command kills its parent: the app-server itself.
    env.mock.enqueue(exec("r1", "call_1", "kill -9 $PPID"));
    let codex = env.launch().await;
    let thread = codex
        .thread_start(
            ThreadOptions::default()
                .approval_mode(ApprovalMode::DenyAll)
                .sandbox(SandboxMode::DangerFullAccess),
        )
        .await
        .unwrap();
    let err = within("the turn", thread.run("stop")).await.unwrap_err();
    let Error::TransportClosed(closed) = &err else {
        panic!("expected TransportClosed, got {err:?}");
    };
    assert_eq!(
        closed.exit_status.and_then(|s| s.signal()),
        Some(9),
        "{closed}"
    );
    // Everything after fails the same way, at once.
    let later = codex
        .thread_start(ThreadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(later, Error::TransportClosed(_)), "{later:?}");
}

#[tokio::test]
async fn a_missing_binary_names_the_places_tried() {
    let err = Codex::launch(CodexConfig::default().codex_bin("/nonexistent/codex"))
        .await
        .unwrap_err();
    let Error::BinaryNotFound { tried } = &err else {
        panic!("expected BinaryNotFound, got {err:?}");
    };
    assert!(tried[0].contains("/nonexistent/codex"), "{tried:?}");
}

#[tokio::test]
async fn a_bad_tool_is_refused_before_anything_is_sent_and_close_fails_later_calls() {
    let env = Env::new().await;
    let codex = env.launch().await;
    let bad = Tool::new("no spaces allowed", "", json!({}), |_| async { "" });
    let err = codex
        .thread_start(ThreadOptions::default().tool(bad))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidTool { .. }), "{err:?}");
    let listed = codex.thread_list(Default::default()).await.unwrap();
    assert!(listed.data.is_empty());

    codex.close().await;
    codex.close().await;
    let err = codex.models(false).await.unwrap_err();
    let Error::TransportClosed(closed) = &err else {
        panic!("expected TransportClosed, got {err:?}");
    };
    assert_eq!(closed.message, "the Codex client was closed");
}
