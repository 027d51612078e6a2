//! Serde round trips against shapes captured from the official runtime.

use codex_protocol::v2::*;
use serde_json::json;

#[test]
fn thread_item_user_message_matches_capture() {
    let captured = json!({"type": "userMessage", "id": "u1", "clientId": null,
        "content": [{"type": "text", "text": "Say hello.", "text_elements": []}]});
    let item: ThreadItem = serde_json::from_value(captured.clone()).unwrap();
    assert_eq!(serde_json::to_value(&item).unwrap(), captured);
}

#[test]
fn sdk_text_input_without_text_elements_is_accepted() {
    let input: UserInput = serde_json::from_value(json!({"type": "text", "text": "hi"})).unwrap();
    assert_eq!(
        input,
        UserInput::Text {
            text: "hi".into(),
            text_elements: vec![]
        }
    );
}

#[test]
fn policies_use_their_wire_spellings() {
    let p: AskForApproval = serde_json::from_value(json!("on-request")).unwrap();
    assert_eq!(p, AskForApproval::Mode(ApprovalMode::OnRequest));
    let s: SandboxPolicy = serde_json::from_value(json!({"type": "workspaceWrite"})).unwrap();
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        json!({"type": "workspaceWrite", "writableRoots": [], "networkAccess": false,
               "excludeTmpdirEnvVar": false, "excludeSlashTmp": false})
    );
    let r: ApprovalsReviewer = serde_json::from_value(json!("auto_review")).unwrap();
    assert_eq!(r, ApprovalsReviewer::AutoReview);
    assert_eq!(
        serde_json::to_value(SandboxMode::DangerFullAccess).unwrap(),
        json!("danger-full-access")
    );
}

#[test]
fn file_change_kind_keeps_snake_case_move_path() {
    let k = PatchChangeKind::Update {
        move_path: Some("/a/b".into()),
    };
    assert_eq!(
        serde_json::to_value(&k).unwrap(),
        json!({"type": "update", "move_path": "/a/b"})
    );
}

#[test]
fn turn_emits_nulls_not_omissions() {
    let turn = Turn {
        id: "t".into(),
        items: vec![],
        items_view: TurnItemsView::NotLoaded,
        status: TurnStatus::InProgress,
        error: None,
        started_at: None,
        completed_at: None,
        duration_ms: None,
        usage: None,
    };
    assert_eq!(
        serde_json::to_value(&turn).unwrap(),
        json!({"id": "t", "items": [], "itemsView": "notLoaded", "status": "inProgress",
               "error": null, "startedAt": null, "completedAt": null, "durationMs": null})
    );
}

#[test]
fn resume_params_flatten_thread_settings() {
    let p: ThreadResumeParams = serde_json::from_value(
        json!({"threadId": "x", "excludeTurns": true, "model": "m", "sandbox": "read-only"}),
    )
    .unwrap();
    assert_eq!(p.thread_id, "x");
    assert_eq!(p.settings.model.as_deref(), Some("m"));
    assert_eq!(p.settings.sandbox, Some(SandboxMode::ReadOnly));
}

#[test]
fn mcp_tool_call_item_matches_capture() {
    let captured = json!({"type": "mcpToolCall", "id": "c1", "server": "time",
        "tool": "get_current_time", "status": "completed", "arguments": {"timezone": "Etc/UTC"},
        "appContext": null, "mcpAppUi": null, "pluginId": null, "readOnlyHint": true,
        "result": {"content": [{"type": "text", "text": "{}"}],
                   "structuredContent": {"is_dst": false}, "_meta": null},
        "error": null, "durationMs": 17});
    let item: ThreadItem = serde_json::from_value(captured.clone()).unwrap();
    assert_eq!(serde_json::to_value(&item).unwrap(), captured);
}

#[test]
fn mcp_tool_approval_request_matches_capture() {
    let captured = json!({"threadId": "t", "turnId": "u", "serverName": "fs", "mode": "form",
        "_meta": {"codex_approval_kind": "mcp_tool_call", "persist": ["session", "always"]},
        "message": "Allow the fs MCP server to run tool \"write_file\"?",
        "requestedSchema": {"type": "object", "properties": {}}});
    let params: McpServerElicitationRequestParams =
        serde_json::from_value(captured.clone()).unwrap();
    assert_eq!(serde_json::to_value(&params).unwrap(), captured);
    let answer: McpServerElicitationRequestResponse =
        serde_json::from_value(json!({"action": "decline", "content": null})).unwrap();
    assert_eq!(answer.action, McpServerElicitationAction::Decline);
}

#[test]
fn mcp_direct_call_and_status_omit_absent_mcp_fields() {
    let response = McpServerToolCallResponse {
        content: vec![json!({"type": "text", "text": "Echo: direct"})],
        structured_content: None,
        is_error: None,
        meta: None,
    };
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"content": [{"type": "text", "text": "Echo: direct"}]})
    );
    let status = json!({"threadId": "t", "name": "bad", "status": "failed",
        "error": "MCP startup failed", "failureReason": null});
    let n: McpServerStatusUpdatedNotification = serde_json::from_value(status.clone()).unwrap();
    assert_eq!(serde_json::to_value(&n).unwrap(), status);
    let blob = json!({"uri": "demo://b/3", "mimeType": "text/plain", "blob": "UmVz"});
    let content: ResourceContent = serde_json::from_value(blob.clone()).unwrap();
    assert!(matches!(content, ResourceContent::Blob { .. }));
    assert_eq!(serde_json::to_value(&content).unwrap(), blob);
}
