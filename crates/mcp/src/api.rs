//! The client API methods on a manager, so each JSON-RPC handler is a few lines:
//! `mcpServerStatus/list`, `mcpServer/tool/call`, `mcpServer/resource/read`, and the
//! `mcpServer/startupStatus/updated` notification of a start-up update.
//! (`config/mcpServer/reload` is [`McpManager::reload`] with the re-read configuration.)

use crate::config::McpTransport;
use crate::error::McpError;
use crate::manager::{McpManager, McpStartupUpdate, SlotState};
use crate::resources;
use codex_protocol::v2::{
    ListMcpServerStatusParams, ListMcpServerStatusResponse, McpAuthStatus, McpResourceReadParams,
    McpResourceReadResponse, McpServerStatus, McpServerStatusDetail,
    McpServerStatusUpdatedNotification, McpServerToolCallParams, McpServerToolCallResponse,
};
use std::collections::BTreeMap;
use tokio_util::sync::CancellationToken;

impl McpManager {
    /// `mcpServerStatus/list`: every configured server (disabled ones too) sorted by name,
    /// starting the enabled ones and waiting for them up to their `startup_timeout_sec`. Tools
    /// are filtered by `enabled_tools`/`disabled_tools`; a server that failed to start has
    /// `toolsError`. `cursor` is the index to continue from, `limit` the page size.
    pub async fn status_list(
        &self,
        params: &ListMcpServerStatusParams,
        cancel: &CancellationToken,
    ) -> ListMcpServerStatusResponse {
        let mut slots = self.slots();
        if let Some(name) = &params.server_name {
            slots.retain(|slot| &slot.name == name);
        }
        let start = params
            .cursor
            .as_deref()
            .and_then(|c| c.parse::<usize>().ok())
            .unwrap_or(0)
            .min(slots.len());
        let end = match params.limit {
            Some(limit) => start.saturating_add(limit.max(1) as usize).min(slots.len()),
            None => slots.len(),
        };
        let next_cursor = (end < slots.len()).then(|| end.to_string());
        let full = params.detail != Some(McpServerStatusDetail::ToolsAndAuthOnly);
        let page = &slots[start..end];
        let entries = page.iter().map(|slot| async move {
            let auth_status = match &slot.config.transport {
                McpTransport::StreamableHttp {
                    bearer_token_env_var: Some(_),
                    ..
                } => McpAuthStatus::BearerToken,
                _ => McpAuthStatus::Unsupported,
            };
            let mut status = McpServerStatus {
                name: slot.name.clone(),
                runtime_status: None,
                plugin_id: None,
                http_origin: slot.http_origin(),
                server_info: None,
                server_capabilities: None,
                tools: BTreeMap::new(),
                tools_error: None,
                resources: Vec::new(),
                resource_templates: Vec::new(),
                auth_status,
            };
            if !slot.config.enabled {
                return status;
            }
            match self.live(&slot.name, cancel).await {
                Ok((slot, live)) => {
                    status.server_info = live.conn.identity.info.clone();
                    status.server_capabilities = live.conn.identity.capabilities.clone();
                    status.tools = live
                        .tools()
                        .iter()
                        .filter(|t| slot.config.tool_enabled(&t.name))
                        .map(|t| (t.name.clone(), t.clone()))
                        .collect();
                    if full {
                        let timeout = slot.config.tool_timeout;
                        // Servers without resources answer "method not found": no resources.
                        if let Ok(Ok(resources)) =
                            tokio::time::timeout(timeout, live.conn.list_all_resources()).await
                        {
                            status.resources = resources;
                        }
                        if let Ok(Ok(templates)) =
                            tokio::time::timeout(timeout, live.conn.list_all_resource_templates())
                                .await
                        {
                            status.resource_templates = templates;
                        }
                    }
                }
                Err(McpError::Unavailable { message, .. }) => status.tools_error = Some(message),
                Err(other) => status.tools_error = Some(other.to_string()),
            }
            status
        });
        ListMcpServerStatusResponse {
            data: futures_util::future::join_all(entries).await,
            next_cursor,
        }
    }

    /// `mcpServer/tool/call`: calls a tool directly (no model, no approval), under the
    /// server's `tool_timeout_sec`. A result with `isError` is returned as such.
    ///
    /// # Errors
    /// Unknown or unavailable server, timeout, broken connection, protocol error.
    pub async fn call_tool_direct(
        &self,
        params: &McpServerToolCallParams,
        cancel: &CancellationToken,
    ) -> Result<McpServerToolCallResponse, McpError> {
        let result = self
            .call_tool(
                &params.server,
                &params.tool,
                params.arguments.as_ref(),
                cancel,
            )
            .await?;
        Ok(McpServerToolCallResponse {
            content: result.content,
            structured_content: result.structured_content,
            is_error: result.is_error,
            meta: result.meta,
        })
    }

    /// `mcpServer/resource/read`.
    ///
    /// # Errors
    /// As [`Self::call_tool_direct`].
    pub async fn read_resource(
        &self,
        params: &McpResourceReadParams,
        cancel: &CancellationToken,
    ) -> Result<McpResourceReadResponse, McpError> {
        let contents = resources::read(self, &params.server, &params.uri, cancel).await?;
        Ok(McpResourceReadResponse {
            contents,
            origin_call_id: None,
        })
    }

    /// Whether a server is configured (the glue's check before routing a request here).
    pub fn has_server(&self, server: &str) -> bool {
        self.slot(server).is_ok()
    }

    /// Names of the servers ready now.
    pub fn ready_servers(&self) -> Vec<String> {
        self.slots()
            .into_iter()
            .filter(|slot| matches!(slot.state(), SlotState::Ready(_)))
            .map(|slot| slot.name.clone())
            .collect()
    }
}

impl McpStartupUpdate {
    /// The `mcpServer/startupStatus/updated` params for this update.
    pub fn notification(&self, thread_id: Option<&str>) -> McpServerStatusUpdatedNotification {
        McpServerStatusUpdatedNotification {
            thread_id: thread_id.map(str::to_string),
            name: self.server.clone(),
            status: self.status,
            error: self.error.clone(),
            failure_reason: None,
        }
    }
}
