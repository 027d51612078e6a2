//! A server that crashes during a call, restart on next use, and children killed on drop.

use super::calls::{call, item_json, tool};
use super::support::*;
use codex_protocol::v2::McpServerStartupState::{Ready, Starting};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_fails_the_call_and_the_server_restarts_on_next_use() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let mut h = harness(config(vec![(
        "everything",
        everything_with_pid_file(&pid_file),
    )]));
    let cancel = CancellationToken::new();
    h.manager.wait_ready(&cancel).await;
    assert_eq!(
        h.updates_until_settled("everything")
            .await
            .last()
            .unwrap()
            .status,
        Ready
    );
    let first = read_pid(&pid_file);

    // Kill the server while a long operation is running at it.
    let killer = async {
        // The call is in flight once the server is busy; killing it earlier fails the call
        // the same way (the connection is gone either way).
        // SAFETY: signalling a process of our own by pid.
        unsafe { libc::kill(first, libc::SIGKILL) };
    };
    let ((_, outcome), ()) = tokio::time::timeout(BOUND, async {
        tokio::join!(
            call(
                &h.manager,
                "crash",
                tool("everything", "trigger-long-running-operation"),
                r#"{"duration": 30, "steps": 30}"#,
                &cancel
            ),
            killer
        )
    })
    .await
    .expect("the crash ends the call before its timeout");
    let item = item_json(&outcome.item);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["result"], serde_json::Value::Null);
    let message = item["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "tool call error: tool call failed for `everything/trigger-long-running-operation`"
        ),
        "{message}"
    );

    // Next use restarts it: starting, ready, and the call works.
    let (_, outcome) = call(
        &h.manager,
        "again",
        tool("everything", "echo"),
        r#"{"message": "back"}"#,
        &cancel,
    )
    .await;
    assert_eq!(
        item_json(&outcome.item)["status"],
        "completed",
        "{outcome:?}"
    );
    let restart = h.updates_until_settled("everything").await;
    assert_eq!(
        restart.iter().map(|u| u.status).collect::<Vec<_>>(),
        [Starting, Ready]
    );
    let second = read_pid(&pid_file);
    assert_ne!(first, second, "a new process");
    assert!(wait_for_exit(first).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_manager_kills_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let h = harness(config(vec![(
        "everything",
        everything_with_pid_file(&pid_file),
    )]));
    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    assert!(tools.resolve(Some("mcp__everything"), "echo").is_some());
    let pid = read_pid(&pid_file);
    drop(h);
    assert!(
        wait_for_exit(pid).await,
        "server {pid} still running after drop"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_the_servers() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let h = harness(config(vec![(
        "everything",
        everything_with_pid_file(&pid_file),
    )]));
    h.manager.wait_ready(&CancellationToken::new()).await;
    let pid = read_pid(&pid_file);
    h.manager.shutdown();
    assert!(
        wait_for_exit(pid).await,
        "server {pid} still running after shutdown"
    );
}
