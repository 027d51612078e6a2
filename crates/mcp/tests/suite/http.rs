//! The streamable-HTTP transport against server-everything in its `streamableHttp` mode.

use super::calls::{call, item_json, tool};
use super::support::*;
use codex_mcp::{McpServerConfig, McpTransport};
use std::collections::BTreeMap;
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_a_streamable_http_server() {
    // A free port: bind, read it, release it for the server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(everything_bin())
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap()).lines();
    tokio::time::timeout(BOUND, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if line.contains("listening on port") {
                return;
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server listens in time");

    let mut remote = McpServerConfig::stdio("unused", vec![]);
    remote.transport = McpTransport::StreamableHttp {
        url: format!("http://127.0.0.1:{port}/mcp"),
        // Any variable that is set works as a token for this server; cargo sets this one
        // (setting our own would race with the other tests reading the environment).
        bearer_token_env_var: Some("CARGO_PKG_NAME".into()),
        http_headers: BTreeMap::from([("X-Test".into(), "1".into())]),
        env_http_headers: BTreeMap::new(),
    };
    remote.startup_timeout = BOUND;
    let h = harness(config(vec![("remote", remote)]));
    let cancel = CancellationToken::new();
    let tools = h.manager.wait_ready(&cancel).await;
    assert!(tools.resolve(Some("mcp__remote"), "echo").is_some());
    let (_, outcome) = call(
        &h.manager,
        "h1",
        tool("remote", "echo"),
        r#"{"message": "over http"}"#,
        &cancel,
    )
    .await;
    assert_eq!(
        item_json(&outcome.item)["result"]["content"][0]["text"],
        "Echo: over http"
    );
    let list = h.manager.status_list(&Default::default(), &cancel).await;
    assert_eq!(
        list.data[0].http_origin.as_deref(),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
    assert_eq!(
        list.data[0].auth_status,
        codex_protocol::v2::McpAuthStatus::BearerToken
    );
    drop(h);
    server.kill().await.unwrap();
}

#[tokio::test]
async fn a_missing_bearer_token_fails_the_start_and_says_why() {
    let mut remote = McpServerConfig::stdio("unused", vec![]);
    remote.transport = McpTransport::StreamableHttp {
        url: "http://127.0.0.1:9/mcp".into(),
        bearer_token_env_var: Some("CODEX_MCP_TEST_UNSET_TOKEN".into()),
        http_headers: BTreeMap::new(),
        env_http_headers: BTreeMap::new(),
    };
    let mut h = harness(config(vec![("remote", remote)]));
    h.manager.start();
    let updates = h.updates_until_settled("remote").await;
    assert_eq!(
        updates.last().unwrap().error.as_deref(),
        Some("MCP client for `remote` failed to start: MCP startup failed: environment variable `CODEX_MCP_TEST_UNSET_TOKEN` (bearer_token_env_var) is not set")
    );
}
