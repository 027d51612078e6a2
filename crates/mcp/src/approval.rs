//! Whether an MCP tool call asks the user first, the request that asks, and what the answer
//! means; the official rules.
//!
//! A tool needs approval when its annotations allow harm under the MCP defaults: destructive
//! (`destructiveHint`, default true) and not read-only (`readOnlyHint`, default false), or
//! open-world (`openWorldHint`, default true) and not read-only; a tool without annotations
//! therefore asks. `approval_mode = "prompt"` always asks, `"approve"` never does, and nothing
//! asks when the thread runs with policy `never` and full access. Otherwise, under `never`
//! (or a granular policy without `mcp_elicitations`) the call is refused unasked.
//!
//! The question is an `mcpServer/elicitation/request` form with an empty schema and
//! `_meta.codex_approval_kind = "mcp_tool_call"`. Accept runs the tool (with
//! `_meta.persist = "session"`, the tool is not asked about again in this thread), decline
//! tells the model `user rejected MCP tool call`, cancel `user cancelled MCP tool call`.

use crate::config::ToolApprovalMode;
use crate::elicitation::may_ask;
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, McpServerElicitationAction, McpServerElicitationRequest,
    McpServerElicitationRequestParams, McpServerElicitationRequestResponse, SandboxPolicy,
};
use serde_json::{json, Map, Value};

/// What the model is told when the user declines.
pub const DECLINED_MESSAGE: &str = "user rejected MCP tool call";
/// What the model is told when the user cancels.
pub const CANCELLED_MESSAGE: &str = "user cancelled MCP tool call";
/// What the model is told when approval is needed but the policy forbids asking.
pub const REFUSED_UNDER_NEVER: &str =
    "MCP tool call requires approval, but approval policy is never";

/// The decision before a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApprovalRequirement {
    /// Run it.
    None,
    /// Ask the user; `remember_for_session` offers "allow for this session".
    Ask { remember_for_session: bool },
    /// Do not run it; tell the model this.
    Refuse(&'static str),
}

/// The user's answer, mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalDecision {
    Accept,
    AcceptForSession,
    Decline,
    Cancel,
}

/// Whether a tool's annotations make it need approval (MCP hint defaults applied).
pub fn annotations_require_approval(annotations: Option<&Value>) -> bool {
    let hint = |key: &str| {
        annotations
            .and_then(|a| a.get(key))
            .and_then(Value::as_bool)
    };
    if hint("destructiveHint") == Some(true) {
        return true;
    }
    if hint("readOnlyHint").unwrap_or(false) {
        return false;
    }
    hint("destructiveHint").unwrap_or(true) || hint("openWorldHint").unwrap_or(true)
}

/// The decision for one call.
pub fn approval_requirement(
    annotations: Option<&Value>,
    mode: ToolApprovalMode,
    policy: &AskForApproval,
    sandbox: &SandboxPolicy,
) -> ApprovalRequirement {
    let full_access = matches!(policy, AskForApproval::Mode(ApprovalMode::Never))
        && matches!(
            sandbox,
            SandboxPolicy::DangerFullAccess | SandboxPolicy::ExternalSandbox { .. }
        );
    if full_access || mode == ToolApprovalMode::Approve {
        return ApprovalRequirement::None;
    }
    if mode != ToolApprovalMode::Prompt && !annotations_require_approval(annotations) {
        return ApprovalRequirement::None;
    }
    if !may_ask(policy) {
        return ApprovalRequirement::Refuse(REFUSED_UNDER_NEVER);
    }
    ApprovalRequirement::Ask {
        remember_for_session: mode == ToolApprovalMode::Auto,
    }
}

/// The tool being asked about.
pub struct ApprovalSubject<'a> {
    pub thread_id: &'a str,
    pub turn_id: &'a str,
    pub server: &'a str,
    pub tool: &'a str,
    pub tool_title: Option<&'a str>,
    pub tool_description: Option<&'a str>,
    pub arguments: Option<&'a Value>,
    pub remember_for_session: bool,
}

/// The `mcpServer/elicitation/request` params that ask about one call.
pub fn approval_request(subject: &ApprovalSubject<'_>) -> McpServerElicitationRequestParams {
    let mut meta = Map::new();
    meta.insert("codex_approval_kind".into(), json!("mcp_tool_call"));
    if subject.remember_for_session {
        // Only the session can be remembered here; this runtime does not write config files.
        meta.insert("persist".into(), json!("session"));
    }
    if let Some(title) = subject.tool_title {
        meta.insert("tool_title".into(), json!(title));
    }
    if let Some(description) = subject.tool_description {
        meta.insert("tool_description".into(), json!(description));
    }
    if let Some(arguments) = subject.arguments {
        meta.insert("tool_params".into(), arguments.clone());
        if let Some(object) = arguments.as_object() {
            // serde_json's map is ordered by key, which is the order the official sends.
            let display: Vec<Value> = object
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value, "display_name": name}))
                .collect();
            meta.insert("tool_params_display".into(), Value::Array(display));
        }
    }
    McpServerElicitationRequestParams {
        thread_id: subject.thread_id.to_string(),
        turn_id: Some(subject.turn_id.to_string()),
        server_name: subject.server.to_string(),
        request: McpServerElicitationRequest::Form {
            meta: Some(Value::Object(meta)),
            message: format!(
                "Allow the {} MCP server to run tool \"{}\"?",
                subject.server, subject.tool
            ),
            requested_schema: json!({"type": "object", "properties": {}}),
        },
    }
}

/// Maps the client's answer. No usable answer counts as a decline, as the official runtime
/// treats an answer it cannot parse.
pub fn decision(response: Option<&McpServerElicitationRequestResponse>) -> ApprovalDecision {
    let Some(response) = response else {
        return ApprovalDecision::Decline;
    };
    match response.action {
        McpServerElicitationAction::Accept => {
            let persist = response
                .meta
                .as_ref()
                .and_then(|m| m.get("persist"))
                .and_then(Value::as_str);
            match persist {
                Some("session" | "always") => ApprovalDecision::AcceptForSession,
                _ => ApprovalDecision::Accept,
            }
        }
        McpServerElicitationAction::Decline => ApprovalDecision::Decline,
        McpServerElicitationAction::Cancel => ApprovalDecision::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::v2::GranularApproval;

    const ON_REQUEST: AskForApproval = AskForApproval::Mode(ApprovalMode::OnRequest);
    const NEVER: AskForApproval = AskForApproval::Mode(ApprovalMode::Never);
    const READ_ONLY: SandboxPolicy = SandboxPolicy::ReadOnly {
        network_access: false,
    };

    #[test]
    fn annotations_follow_the_mcp_defaults() {
        let ask = |a: Value| annotations_require_approval(Some(&a));
        assert!(
            ask(json!({"readOnlyHint": false, "destructiveHint": true})),
            "write_file"
        );
        assert!(
            !ask(json!({"readOnlyHint": true, "openWorldHint": false})),
            "read_file"
        );
        assert!(
            !ask(json!({"readOnlyHint": false, "destructiveHint": false, "openWorldHint": false})),
            "create_directory"
        );
        assert!(
            ask(json!({"readOnlyHint": false, "destructiveHint": false})),
            "open world"
        );
        assert!(
            annotations_require_approval(None),
            "no annotations: defaults"
        );
        assert!(
            ask(json!({"readOnlyHint": true, "destructiveHint": true})),
            "destructive wins"
        );
    }

    #[test]
    fn modes_and_policies() {
        let destructive = json!({"destructiveHint": true});
        let safe = json!({"readOnlyHint": true});
        let req = |a: &Value, m, p: &AskForApproval, s: &SandboxPolicy| {
            approval_requirement(Some(a), m, p, s)
        };
        use ToolApprovalMode::*;
        assert_eq!(
            req(&destructive, Auto, &ON_REQUEST, &READ_ONLY),
            ApprovalRequirement::Ask {
                remember_for_session: true
            }
        );
        assert_eq!(
            req(&safe, Auto, &ON_REQUEST, &READ_ONLY),
            ApprovalRequirement::None
        );
        assert_eq!(
            req(&safe, Prompt, &ON_REQUEST, &READ_ONLY),
            ApprovalRequirement::Ask {
                remember_for_session: false
            }
        );
        assert_eq!(
            req(&destructive, Approve, &NEVER, &READ_ONLY),
            ApprovalRequirement::None
        );
        assert_eq!(
            req(&destructive, Auto, &NEVER, &READ_ONLY),
            ApprovalRequirement::Refuse(REFUSED_UNDER_NEVER)
        );
        assert_eq!(
            req(&destructive, Auto, &NEVER, &SandboxPolicy::DangerFullAccess),
            ApprovalRequirement::None,
            "full access never asks"
        );
        let granular = AskForApproval::Granular {
            granular: GranularApproval {
                sandbox_approval: true,
                rules: true,
                mcp_elicitations: false,
                request_permissions: false,
                skill_approval: false,
            },
        };
        assert_eq!(
            req(&destructive, Auto, &granular, &READ_ONLY),
            ApprovalRequirement::Refuse(REFUSED_UNDER_NEVER)
        );
    }

    #[test]
    fn request_matches_the_official_shape() {
        let args = json!({"path": "a.txt", "content": "x"});
        let params = approval_request(&ApprovalSubject {
            thread_id: "t",
            turn_id: "u",
            server: "fs",
            tool: "write_file",
            tool_title: Some("Write File"),
            tool_description: Some("Writes."),
            arguments: Some(&args),
            remember_for_session: true,
        });
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"threadId": "t", "turnId": "u", "serverName": "fs", "mode": "form",
                "_meta": {"codex_approval_kind": "mcp_tool_call", "persist": "session",
                    "tool_title": "Write File", "tool_description": "Writes.",
                    "tool_params": {"path": "a.txt", "content": "x"},
                    "tool_params_display": [
                        {"name": "content", "value": "x", "display_name": "content"},
                        {"name": "path", "value": "a.txt", "display_name": "path"}]},
                "message": "Allow the fs MCP server to run tool \"write_file\"?",
                "requestedSchema": {"type": "object", "properties": {}}})
        );
    }

    #[test]
    fn answers_map_to_decisions() {
        let answer =
            |v: Value| serde_json::from_value::<McpServerElicitationRequestResponse>(v).unwrap();
        assert_eq!(
            decision(Some(&answer(json!({"action": "accept"})))),
            ApprovalDecision::Accept
        );
        assert_eq!(
            decision(Some(&answer(
                json!({"action": "accept", "_meta": {"persist": "session"}})
            ))),
            ApprovalDecision::AcceptForSession
        );
        assert_eq!(
            decision(Some(&answer(json!({"action": "decline"})))),
            ApprovalDecision::Decline
        );
        assert_eq!(
            decision(Some(&answer(json!({"action": "cancel"})))),
            ApprovalDecision::Cancel
        );
        assert_eq!(decision(None), ApprovalDecision::Decline);
    }
}
