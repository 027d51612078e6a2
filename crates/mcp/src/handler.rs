//! Our side of an MCP session as rmcp sees it: the client identity and capabilities we
//! announce, server elicitations forwarded to the [`ElicitationHandler`], and tool-list
//! change notifications, which mark the cached catalogue stale.

use crate::elicitation::{forward, ElicitationHandler, ServerElicitation};
use codex_protocol::v2::McpServerElicitationRequest;
use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ErrorData, Implementation,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use rmcp::ClientHandler;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The client name servers see, as the official runtime announces itself.
pub const CLIENT_NAME: &str = "codex-mcp-client";

/// One per connection.
pub(crate) struct McpClientHandler {
    pub server_name: String,
    pub elicitation: Arc<dyn ElicitationHandler>,
    /// Set when the server says its tool list changed; the manager re-lists on next use.
    pub tools_changed: Arc<AtomicBool>,
}

impl ClientHandler for McpClientHandler {
    fn get_info(&self) -> ClientConfig {
        // rmcp's capability builder is behind its server features; the wire form is simple.
        let capabilities: ClientCapabilities =
            serde_json::from_value(serde_json::json!({"elicitation": {}})).unwrap_or_default();
        ClientConfig::new(
            capabilities,
            Implementation::new(CLIENT_NAME, env!("CARGO_PKG_VERSION")),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        // Both sides follow the MCP wire form, so the conversion goes through JSON and keeps
        // the server's schema as sent.
        let wire = serde_json::to_value(&request)
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let request: McpServerElicitationRequest = serde_json::from_value(wire)
            .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let answer = forward(
            self.elicitation.as_ref(),
            ServerElicitation {
                server_name: self.server_name.clone(),
                request,
            },
        )
        .await;
        let wire = serde_json::json!({"action": answer.action, "content": answer.content});
        serde_json::from_value(wire).map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.store(true, Ordering::Release);
    }
}
