//! One live MCP session over stdio or streamable HTTP, on rmcp: the handshake, and the
//! requests this runtime makes (tools, calls, resources), converted to protocol types.
//!
//! Dropping a [`Connection`] ends the rmcp service and kills a stdio server's process group.
//! Timeouts are the caller's (the manager applies `startup_timeout_sec` and
//! `tool_timeout_sec`); an abandoned request is cancelled by rmcp when its future is dropped.

use crate::config::McpTransport;
use crate::error::McpError;
use crate::handler::McpClientHandler;
use crate::spawn::{self, ChildGuard, SpawnSpec, StderrTail};
use codex_protocol::v2::{
    McpResource, McpResourceTemplate, McpServerInfo, McpTool, ResourceContent,
};
use rmcp::model::{CallToolRequestParams, PaginatedRequestParams, ReadResourceRequestParams};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::ServiceExt;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// What the server said about itself in `initialize`.
#[derive(Clone, Debug, Default)]
pub(crate) struct ServerIdentity {
    pub info: Option<McpServerInfo>,
    pub capabilities: Option<Value>,
    pub instructions: Option<String>,
}

/// A raw `CallToolResult` in MCP wire form.
#[derive(Clone, Debug, PartialEq)]
pub struct CallResult {
    pub content: Vec<Value>,
    pub structured_content: Option<Value>,
    pub is_error: Option<bool>,
    pub meta: Option<Value>,
}

pub(crate) struct Connection {
    name: String,
    service: RunningService<RoleClient, McpClientHandler>,
    /// Kept for its `Drop`: kills the stdio server's process group.
    child: Option<Mutex<ChildGuard>>,
    stderr: Option<StderrTail>,
    tools_changed: Arc<AtomicBool>,
    pub identity: ServerIdentity,
}

impl Connection {
    /// Starts the server (or connects to it) and completes the MCP handshake.
    ///
    /// # Errors
    /// Spawn or connect failures and handshake failures, with the server's stderr tail.
    pub(crate) async fn open(
        name: &str,
        transport: &McpTransport,
        handler: McpClientHandler,
    ) -> Result<Self, String> {
        let tools_changed = Arc::clone(&handler.tools_changed);
        let (service, child, stderr) = match transport {
            McpTransport::Stdio {
                command,
                args,
                env,
                env_vars,
                cwd,
            } => {
                let spec = SpawnSpec {
                    command,
                    args,
                    env,
                    env_vars,
                    cwd: cwd.as_ref(),
                };
                let spawned = spawn::spawn(&spec, name).map_err(|e| e.to_string())?;
                let stderr = spawned.stderr.clone();
                let service = match handler.serve((spawned.stdout, spawned.stdin)).await {
                    Ok(service) => service,
                    Err(e) => {
                        // Kill what is left of the server, then let the stderr reader reach
                        // end of file so the message quotes what the server said dying.
                        drop(spawned.guard);
                        let _ = tokio::time::timeout(spawn::STDERR_DRAIN, stderr.closed()).await;
                        return Err(with_stderr(
                            format!("handshaking with MCP server failed: {e}"),
                            &stderr,
                        ));
                    }
                };
                (service, Some(Mutex::new(spawned.guard)), Some(stderr))
            }
            McpTransport::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
            } => {
                let transport = crate::http::transport(
                    url,
                    bearer_token_env_var.as_deref(),
                    http_headers,
                    env_http_headers,
                )?;
                let service = handler
                    .serve(transport)
                    .await
                    .map_err(|e| format!("handshaking with MCP server failed: {e}"))?;
                (service, None, None)
            }
        };
        let identity = match service.peer_info() {
            Some(init) => {
                let wire = serde_json::to_value(init.as_ref()).unwrap_or(Value::Null);
                ServerIdentity {
                    info: wire
                        .get("serverInfo")
                        .cloned()
                        .and_then(|v| serde_json::from_value(fill_nulls(v, SERVER_INFO_KEYS)).ok()),
                    capabilities: wire.get("capabilities").cloned(),
                    instructions: wire
                        .get("instructions")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                }
            }
            None => ServerIdentity::default(),
        };
        Ok(Connection {
            name: name.to_string(),
            service,
            child,
            stderr,
            tools_changed,
            identity,
        })
    }

    /// Whether the session is over (the server exited or the stream closed).
    pub(crate) fn is_closed(&self) -> bool {
        if self.service.is_closed() || self.service.is_transport_closed() {
            return true;
        }
        self.child
            .as_ref()
            .and_then(|c| c.lock().ok().map(|mut g| g.has_exited()))
            .unwrap_or(false)
    }

    /// Takes the "tool list changed" flag.
    pub(crate) fn take_tools_changed(&self) -> bool {
        self.tools_changed.swap(false, Ordering::AcqRel)
    }

    /// Every tool, all pages.
    pub(crate) async fn list_tools(&self) -> Result<Vec<McpTool>, McpError> {
        let tools = self
            .service
            .list_all_tools()
            .await
            .map_err(|e| self.service_error(e))?;
        tools.into_iter().map(|t| convert(&t)).collect()
    }

    /// One page of resources.
    pub(crate) async fn list_resources(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<McpResource>, Option<String>), McpError> {
        let params = cursor.map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
        let page = self
            .service
            .list_resources(params)
            .await
            .map_err(|e| self.service_error(e))?;
        let resources = page
            .resources
            .iter()
            .map(convert)
            .collect::<Result<_, _>>()?;
        Ok((resources, page.next_cursor))
    }

    /// One page of resource templates.
    pub(crate) async fn list_resource_templates(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<McpResourceTemplate>, Option<String>), McpError> {
        let params = cursor.map(|c| PaginatedRequestParams::default().with_cursor(Some(c)));
        let page = self
            .service
            .list_resource_templates(params)
            .await
            .map_err(|e| self.service_error(e))?;
        let templates = page
            .resource_templates
            .iter()
            .map(convert)
            .collect::<Result<_, _>>()?;
        Ok((templates, page.next_cursor))
    }

    /// Every resource, all pages (bounded: a server that pages forever is cut off).
    pub(crate) async fn list_all_resources(&self) -> Result<Vec<McpResource>, McpError> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let (page, next) = self.list_resources(cursor).await?;
            all.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(all)
    }

    /// Every resource template, all pages (bounded like [`Self::list_all_resources`]).
    pub(crate) async fn list_all_resource_templates(
        &self,
    ) -> Result<Vec<McpResourceTemplate>, McpError> {
        let mut all = Vec::new();
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let (page, next) = self.list_resource_templates(cursor).await?;
            all.extend(page);
            match next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        Ok(all)
    }

    /// `resources/read`.
    pub(crate) async fn read_resource(&self, uri: &str) -> Result<Vec<ResourceContent>, McpError> {
        let result = self
            .service
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .map_err(|e| self.service_error(e))?;
        result.contents.iter().map(convert).collect()
    }

    /// `tools/call`. A result with `isError` is a success here: the server answered.
    pub(crate) async fn call_tool(
        &self,
        tool: &str,
        arguments: Option<Map<String, Value>>,
    ) -> Result<CallResult, McpError> {
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Some(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        let result = self
            .service
            .call_tool(params)
            .await
            .map_err(|e| self.service_error(e))?;
        let wire = serde_json::to_value(&result).map_err(|e| McpError::Protocol(e.to_string()))?;
        Ok(CallResult {
            content: wire
                .get("content")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            structured_content: wire
                .get("structuredContent")
                .cloned()
                .filter(|v| !v.is_null()),
            is_error: wire.get("isError").and_then(Value::as_bool),
            meta: wire.get("_meta").cloned().filter(|v| !v.is_null()),
        })
    }

    fn service_error(&self, error: ServiceError) -> McpError {
        match error {
            ServiceError::McpError(data) => {
                McpError::Protocol(format!("MCP error {}: {}", data.code.0, data.message))
            }
            ServiceError::Timeout { timeout } => McpError::Timeout {
                method: "MCP request",
                timeout,
            },
            ServiceError::Cancelled { .. } => McpError::Cancelled,
            ServiceError::TransportClosed | ServiceError::TransportSend(_) => {
                let message = match &self.stderr {
                    Some(stderr) => with_stderr("transport closed".to_string(), stderr),
                    None => "transport closed".to_string(),
                };
                McpError::ConnectionClosed {
                    server: self.name.clone(),
                    message,
                }
            }
            other => McpError::Protocol(other.to_string()),
        }
    }
}

/// Pages fetched at most when listing everything.
const MAX_PAGES: usize = 100;

const SERVER_INFO_KEYS: &[&str] = &["title", "description", "icons", "websiteUrl"];

/// Adds the optional keys as null so the protocol type (which emits every field) parses.
fn fill_nulls(mut value: Value, keys: &[&str]) -> Value {
    if let Value::Object(map) = &mut value {
        for key in keys {
            map.entry(*key).or_insert(Value::Null);
        }
    }
    value
}

/// rmcp model -> protocol type through the shared MCP wire form.
fn convert<T: serde::Serialize, U: DeserializeOwned>(value: &T) -> Result<U, McpError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| McpError::Protocol(format!("unexpected MCP object: {e}")))
}

fn with_stderr(message: String, stderr: &StderrTail) -> String {
    let tail = stderr.text();
    if tail.is_empty() {
        message
    } else {
        format!("{message}; server stderr: {tail}")
    }
}
