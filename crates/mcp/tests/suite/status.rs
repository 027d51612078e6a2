//! The client API: status list, direct tool call, resource read, reload.

use super::support::*;
use codex_mcp::McpError;
use codex_protocol::v2::{
    ListMcpServerStatusParams, McpAuthStatus, McpResourceReadParams, McpServerStatusDetail,
    McpServerToolCallParams, ResourceContent,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn direct(server: &str, tool: &str, arguments: serde_json::Value) -> McpServerToolCallParams {
    McpServerToolCallParams {
        thread_id: "t".into(),
        server: server.into(),
        tool: tool.into(),
        arguments: Some(arguments),
        meta: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_list_shows_every_server_with_tools_or_why_not() {
    let mut everything = everything();
    everything.enabled_tools = Some(vec!["echo".into(), "get-sum".into()]);
    let mut off = time();
    off.enabled = false;
    let h = harness(config(vec![
        ("everything", everything),
        ("off", off),
        (
            "missing",
            codex_mcp::McpServerConfig::stdio("/nonexistent/x", vec![]),
        ),
    ]));
    let cancel = CancellationToken::new();
    let list = h
        .manager
        .status_list(&ListMcpServerStatusParams::default(), &cancel)
        .await;
    let names: Vec<&str> = list.data.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["everything", "missing", "off"]);
    assert_eq!(list.next_cursor, None);

    let every = &list.data[0];
    assert_eq!(every.tools.keys().collect::<Vec<_>>(), ["echo", "get-sum"]);
    assert_eq!(every.tools["echo"].title.as_deref(), Some("Echo Tool"));
    assert_eq!(every.tools_error, None);
    assert_eq!(
        every.server_info.as_ref().unwrap().name,
        "mcp-servers/everything"
    );
    assert!(every.server_capabilities.as_ref().unwrap()["tools"].is_object());
    assert!(every
        .resources
        .iter()
        .any(|r| r.uri == "demo://resource/static/document/architecture.md"));
    assert_eq!(every.resource_templates.len(), 2);
    assert_eq!(every.auth_status, McpAuthStatus::Unsupported);
    assert_eq!(every.http_origin, None);

    let missing = &list.data[1];
    assert!(missing.tools.is_empty());
    assert_eq!(
        missing.tools_error.as_deref(),
        Some("MCP startup failed: No such file or directory (os error 2)")
    );
    let off = &list.data[2];
    assert!(off.tools.is_empty() && off.tools_error.is_none() && off.server_info.is_none());

    // Paging, one server, tools only.
    let page = h
        .manager
        .status_list(
            &ListMcpServerStatusParams {
                limit: Some(1),
                cursor: Some("1".into()),
                detail: Some(McpServerStatusDetail::ToolsAndAuthOnly),
                ..Default::default()
            },
            &cancel,
        )
        .await;
    assert_eq!(page.data.len(), 1);
    assert_eq!(page.data[0].name, "missing");
    assert_eq!(page.next_cursor.as_deref(), Some("2"));
    let one = h
        .manager
        .status_list(
            &ListMcpServerStatusParams {
                server_name: Some("everything".into()),
                detail: Some(McpServerStatusDetail::ToolsAndAuthOnly),
                ..Default::default()
            },
            &cancel,
        )
        .await;
    assert_eq!(one.data.len(), 1);
    assert!(
        one.data[0].resources.is_empty(),
        "toolsAndAuthOnly skips resources"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_calls_and_resource_reads() {
    let h = harness(config(vec![("everything", everything())]));
    let cancel = CancellationToken::new();
    let ok = h
        .manager
        .call_tool_direct(
            &direct("everything", "echo", json!({"message": "direct"})),
            &cancel,
        )
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&ok).unwrap(),
        json!({"content": [{"type": "text", "text": "Echo: direct"}]})
    );
    let failed = h
        .manager
        .call_tool_direct(&direct("everything", "get-sum", json!({"a": "x"})), &cancel)
        .await
        .unwrap();
    assert_eq!(failed.is_error, Some(true));
    let unknown = h
        .manager
        .call_tool_direct(&direct("nope", "echo", json!({})), &cancel)
        .await
        .unwrap_err();
    assert!(matches!(unknown, McpError::UnknownServer(_)));

    let read = |uri: &str| McpResourceReadParams {
        thread_id: None,
        server: "everything".into(),
        uri: uri.into(),
        connector_id: None,
        origin_call_id: None,
        target: None,
    };
    let text = h
        .manager
        .read_resource(&read("demo://resource/dynamic/text/3"), &cancel)
        .await
        .unwrap();
    match &text.contents[..] {
        [ResourceContent::Text {
            text, mime_type, ..
        }] => {
            assert!(text.starts_with("Resource 3:"), "{text}");
            assert_eq!(mime_type.as_deref(), Some("text/plain"));
        }
        other => panic!("one text content: {other:?}"),
    }
    let blob = h
        .manager
        .read_resource(&read("demo://resource/dynamic/blob/3"), &cancel)
        .await
        .unwrap();
    assert!(matches!(&blob.contents[..], [ResourceContent::Blob { .. }]));
    assert_eq!(
        serde_json::to_value(&blob).unwrap()["originCallId"],
        serde_json::Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tools_for_the_model() {
    use super::calls::{call, item_json};
    use codex_mcp::{McpCallTarget, ResourceTool};
    let h = harness(config(vec![("everything", everything()), ("time", time())]));
    let cancel = CancellationToken::new();
    h.manager.wait_ready(&cancel).await;

    let (started, outcome) = call(
        &h.manager,
        "r1",
        McpCallTarget::Resource(ResourceTool::ListResources),
        "{}",
        &cancel,
    )
    .await;
    assert_eq!(item_json(&started)["server"], "codex");
    assert_eq!(item_json(&started)["tool"], "list_mcp_resources");
    let payload: serde_json::Value =
        serde_json::from_str(outcome.output.as_str().unwrap()).unwrap();
    let first = &payload["resources"][0];
    assert_eq!(first["server"], "everything");
    assert!(first["uri"].as_str().unwrap().starts_with("demo://"));
    assert!(payload.get("server").is_none());
    assert_eq!(
        item_json(&outcome.item)["result"]["content"][0]["text"],
        outcome.output
    );

    let (_, outcome) = call(
        &h.manager,
        "r2",
        McpCallTarget::Resource(ResourceTool::ListResourceTemplates),
        r#"{"server": "everything"}"#,
        &cancel,
    )
    .await;
    let payload: serde_json::Value =
        serde_json::from_str(outcome.output.as_str().unwrap()).unwrap();
    assert_eq!(payload["server"], "everything");
    assert_eq!(payload["resourceTemplates"][0]["server"], "everything");
    assert!(payload["resourceTemplates"][0]["uriTemplate"].is_string());

    let (_, outcome) = call(
        &h.manager,
        "r3",
        McpCallTarget::Resource(ResourceTool::ReadResource),
        r#"{"server": "everything", "uri": "demo://resource/dynamic/text/1"}"#,
        &cancel,
    )
    .await;
    let payload: serde_json::Value =
        serde_json::from_str(outcome.output.as_str().unwrap()).unwrap();
    assert_eq!(payload["uri"], "demo://resource/dynamic/text/1");
    assert!(payload["contents"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Resource 1:"));

    let (_, outcome) = call(
        &h.manager,
        "r4",
        McpCallTarget::Resource(ResourceTool::ListResources),
        r#"{"cursor": "x"}"#,
        &cancel,
    )
    .await;
    assert_eq!(
        outcome.output,
        "cursor can only be used when a server is specified"
    );
    assert_eq!(item_json(&outcome.item)["status"], "failed");

    let (_, outcome) = call(
        &h.manager,
        "r5",
        McpCallTarget::Resource(ResourceTool::ReadResource),
        r#"{"server": "nope", "uri": "x"}"#,
        &cancel,
    )
    .await;
    assert_eq!(
        outcome.output,
        "resources/read failed: unknown MCP server `nope`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_diffs_the_servers() {
    let pids = tempfile::tempdir().unwrap();
    let kept_pid = pids.path().join("kept");
    let changed_pid = pids.path().join("changed");
    let mut h = harness(config(vec![
        ("kept", everything_with_pid_file(&kept_pid)),
        ("changed", everything_with_pid_file(&changed_pid)),
        ("removed", time()),
    ]));
    let cancel = CancellationToken::new();
    let tools = h.manager.wait_ready(&cancel).await;
    assert!(tools
        .resolve(Some("mcp__removed"), "get_current_time")
        .is_some());
    let kept = read_pid(&kept_pid);
    let changed = read_pid(&changed_pid);
    while h.updates.try_recv().is_ok() {}

    let mut changed_config = everything_with_pid_file(&changed_pid);
    changed_config.disabled_tools = vec!["echo".into()];
    h.manager.reload(config(vec![
        ("kept", everything_with_pid_file(&kept_pid)),
        ("changed", changed_config),
        ("added", time()),
    ]));
    assert!(
        wait_for_exit(changed).await,
        "the changed server's old process is gone"
    );
    let tools = h.manager.wait_ready(&cancel).await;
    assert!(tools
        .resolve(Some("mcp__removed"), "get_current_time")
        .is_none());
    assert!(tools
        .resolve(Some("mcp__added"), "get_current_time")
        .is_some());
    assert!(
        tools.resolve(Some("mcp__changed"), "echo").is_none(),
        "new config applied"
    );
    assert!(tools.resolve(Some("mcp__changed"), "get_sum").is_some());
    assert_eq!(read_pid(&kept_pid), kept, "unchanged server kept running");
    assert_ne!(read_pid(&changed_pid), changed, "changed server restarted");
    let restarted: Vec<String> = std::iter::from_fn(|| h.updates.try_recv().ok())
        .filter(|u| u.status == codex_protocol::v2::McpServerStartupState::Starting)
        .map(|u| u.server)
        .collect();
    assert!(!restarted.contains(&"kept".to_string()), "{restarted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_retries_a_server_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    let late = dir.path().join("late-server");
    // The command does not exist yet: start-up fails.
    let server = codex_mcp::McpServerConfig::stdio(late.to_string_lossy(), vec![]);
    let mut h = harness(config(vec![("late", server.clone())]));
    let cancel = CancellationToken::new();
    h.manager.wait_ready(&cancel).await;
    let first = h.updates_until_settled("late").await;
    assert_eq!(
        first.last().unwrap().status,
        codex_protocol::v2::McpServerStartupState::Failed
    );

    // Now it exists; reloading the same configuration starts it again.
    std::os::unix::fs::symlink(everything_bin(), &late).unwrap();
    h.manager.reload(config(vec![("late", server)]));
    let tools = h.manager.wait_ready(&cancel).await;
    assert!(tools.resolve(Some("mcp__late"), "echo").is_some());
}
