//! Start-up: status updates, failures that say why, a server that never answers, the grace.

use super::support::*;
use codex_mcp::{McpError, McpServerConfig};
use codex_protocol::v2::McpServerStartupState::{Failed, Ready, Starting};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

fn never_answers(timeout: Duration) -> McpServerConfig {
    // `sleep` never reads its stdin nor writes its stdout: the handshake gets no answer.
    let mut server = McpServerConfig::stdio("sleep", vec!["1000".into()]);
    server.startup_timeout = timeout;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_go_starting_then_ready_or_failed_and_failures_say_why() {
    let root = tempfile::tempdir().unwrap();
    let mut bad_zone = time();
    // mcp-server-time rejects an unknown zone on stderr and exits before the handshake.
    if let codex_mcp::McpTransport::Stdio { args, .. } = &mut bad_zone.transport {
        args.extend(["--local-timezone".to_string(), "Not/AZone".to_string()]);
    }
    let mut h = harness(config(vec![
        ("fs", filesystem(root.path())),
        (
            "missing",
            McpServerConfig::stdio("/nonexistent/mcp-server", vec![]),
        ),
        ("exits", bad_zone),
    ]));
    h.manager.start();

    // Every update until the three servers have settled, in arrival order.
    let mut updates = Vec::new();
    let mut settled = std::collections::BTreeMap::new();
    while settled.len() < 3 {
        let update = h.next_update().await;
        if update.status != Starting {
            settled.insert(update.server.clone(), update.clone());
        }
        updates.push(update);
    }
    for server in ["fs", "missing", "exits"] {
        let statuses: Vec<_> = updates
            .iter()
            .filter(|u| u.server == server)
            .map(|u| u.status)
            .collect();
        let last = if server == "fs" { Ready } else { Failed };
        assert_eq!(statuses, [Starting, last], "{server}");
    }
    assert_eq!(settled["fs"].error, None);

    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    assert!(
        tools.resolve(Some("mcp__fs"), "read_text_file").is_some(),
        "fs usable"
    );
    assert!(tools.resolve(Some("mcp__missing"), "x").is_none());

    let failures: std::collections::BTreeMap<_, _> = settled
        .iter()
        .filter_map(|(name, u)| Some((name.clone(), u.error.clone()?)))
        .collect();
    assert_eq!(
        failures["missing"],
        "MCP client for `missing` failed to start: MCP startup failed: No such file or directory (os error 2)"
    );
    let exits = &failures["exits"];
    assert!(exits.starts_with("MCP client for `exits` failed to start: MCP startup failed: handshaking with MCP server failed"), "{exits}");
    assert!(
        exits.contains("not a known IANA timezone name"),
        "the server's stderr says why: {exits}"
    );

    let params = codex_protocol::v2::McpServerToolCallParams {
        thread_id: "t".into(),
        server: "missing".into(),
        tool: "x".into(),
        arguments: None,
        meta: None,
    };
    let err = h
        .manager
        .call_tool_direct(&params, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(matches!(err, McpError::Unavailable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("No such file or directory"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out() {
    let mut h = harness(config(vec![(
        "hang",
        never_answers(Duration::from_millis(500)),
    )]));
    h.manager.start();
    let updates = h.updates_until_settled("hang").await;
    assert_eq!(updates.last().unwrap().status, Failed);
    assert_eq!(
        updates.last().unwrap().error.as_deref(),
        Some("MCP client for `hang` timed out after 0.5 seconds. Add or adjust `startup_timeout_sec` in your config.toml:\n[mcp_servers.hang]\nstartup_timeout_sec = XX")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_ready_honours_the_grace_and_zero_means_each_timeout() {
    // With a grace, a model request stops waiting for a slow server after the grace.
    let mut cfg = config(vec![
        ("hang", never_answers(Duration::from_secs(30))),
        ("time", time()),
    ]);
    cfg.optional_startup_grace = Duration::from_millis(300);
    let h = harness(cfg);
    let began = Instant::now();
    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    let waited = began.elapsed();
    assert!(
        waited < Duration::from_secs(20),
        "the grace bounds the wait: {waited:?}"
    );
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    let _ = tools;

    // With zero, it waits for each server up to its own start-up timeout.
    let h = harness(config(vec![
        ("hang", never_answers(Duration::from_millis(400))),
        ("time", time()),
    ]));
    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    assert!(
        tools
            .resolve(Some("mcp__time"), "get_current_time")
            .is_some(),
        "time waited for"
    );
    let _ = h;

    // Cancelling a wait returns at once.
    let h = harness(config(vec![(
        "hang",
        never_answers(Duration::from_secs(30)),
    )]));
    let cancel = CancellationToken::new();
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(5), h.manager.wait_ready(&cancel))
        .await
        .expect("cancelled wait returns");
}
