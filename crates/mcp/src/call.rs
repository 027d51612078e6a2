//! One model call of an MCP tool, from `item/started` to the `function_call_output`.
//!
//! The glue resolves the call ([`crate::McpTools::resolve`]), opens it with
//! [`McpManager::begin_call`], sends [`McpCall::started_item`] as `item/started`, then awaits
//! [`McpCall::run`], which asks for approval when needed (through the glue's
//! [`ApprovalAsker`]), calls the tool under `tool_timeout_sec`, and returns the completed item
//! and the output for the model.
//!
//! Output, as the official runtime sends it: a list of `input_text` parts, first
//! `"Wall time: <s> seconds\nOutput:"`, then one per text block (images as `input_image`,
//! other blocks as their JSON); with `structuredContent`, one string of the header and that
//! JSON. The resource tools answer with their JSON payload as a plain string.

use crate::approval::{
    self, ApprovalDecision, ApprovalRequirement, ApprovalSubject, CANCELLED_MESSAGE,
    DECLINED_MESSAGE,
};
use crate::connection::CallResult;
use crate::error::McpError;
use crate::manager::McpManager;
use crate::resources;
use crate::tools::McpCallTarget;
use codex_protocol::v2::{
    AskForApproval, McpServerElicitationRequestParams, McpServerElicitationRequestResponse,
    McpToolCallError, McpToolCallResult, McpToolCallStatus, SandboxPolicy, ThreadItem,
};
use serde_json::{json, Value};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Implemented by the glue: sends `mcpServer/elicitation/request` to the client and awaits
/// the answer (emitting `serverRequest/resolved`). `None` when there is no usable answer.
pub trait ApprovalAsker: Send + Sync {
    fn ask(
        &self,
        params: McpServerElicitationRequestParams,
    ) -> impl Future<Output = Option<McpServerElicitationRequestResponse>> + Send;
}

/// Where a call runs.
pub struct CallContext<'a, A: ApprovalAsker> {
    pub thread_id: &'a str,
    pub turn_id: &'a str,
    pub approval_policy: &'a AskForApproval,
    pub sandbox_policy: &'a SandboxPolicy,
    pub asker: &'a A,
    /// Fires on `turn/interrupt`; the call stops and reports itself interrupted.
    pub cancel: &'a CancellationToken,
}

/// A call opened by [`McpManager::begin_call`].
pub struct McpCall {
    manager: McpManager,
    call_id: String,
    target: McpCallTarget,
    /// The item's `server`: the configured server, or `codex` for a resource listing across
    /// every server.
    item_server: String,
    item_tool: String,
    /// Parsed arguments; `Err` holds the parse error (no item then, as official).
    arguments: Result<Option<Value>, String>,
    annotations: Option<Value>,
    tool_title: Option<String>,
    tool_description: Option<String>,
}

/// The end of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct McpCallOutcome {
    /// The `mcpToolCall` item for `item/completed` (none when the arguments did not parse).
    pub item: Option<ThreadItem>,
    /// The `output` of the `function_call_output`: a list of content parts or a string.
    pub output: Value,
    /// Whether the call succeeded (false for tool errors, refusals, timeouts).
    pub success: bool,
}

impl McpManager {
    /// Opens a call. `raw_arguments` is the model's JSON text (empty means no arguments).
    pub fn begin_call(&self, call_id: &str, target: McpCallTarget, raw_arguments: &str) -> McpCall {
        let arguments = if raw_arguments.trim().is_empty() {
            Ok(None)
        } else {
            serde_json::from_str::<Value>(raw_arguments)
                .map(Some)
                .map_err(|e| e.to_string())
        };
        let (item_server, item_tool, tool) = match &target {
            McpCallTarget::Tool { server, tool } => (
                server.clone(),
                tool.clone(),
                self.running_tool(server, tool),
            ),
            McpCallTarget::Resource(kind) => {
                let server = arguments
                    .as_ref()
                    .ok()
                    .and_then(|a| a.as_ref())
                    .and_then(|a| a.get("server"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or("codex")
                    .to_string();
                (server, kind.name().to_string(), None)
            }
        };
        McpCall {
            manager: self.clone(),
            call_id: call_id.to_string(),
            target,
            item_server,
            item_tool,
            arguments,
            annotations: tool.as_ref().and_then(|t| t.annotations.clone()),
            tool_title: tool.as_ref().and_then(|t| t.title.clone()),
            tool_description: tool.and_then(|t| t.description),
        }
    }
}

impl McpCall {
    /// The `inProgress` item for `item/started`; `None` when the arguments did not parse.
    pub fn started_item(&self) -> Option<ThreadItem> {
        let arguments = self.arguments.as_ref().ok()?;
        Some(self.item(
            arguments.clone().unwrap_or(Value::Null),
            McpToolCallStatus::InProgress,
            None,
            None,
            None,
        ))
    }

    /// Approves (when needed), calls and formats.
    ///
    /// # Cancellation
    /// When `ctx.cancel` fires the call is abandoned (rmcp tells the server it is cancelled)
    /// and the outcome is a failure saying so.
    pub async fn run<A: ApprovalAsker>(mut self, ctx: CallContext<'_, A>) -> McpCallOutcome {
        let started = Instant::now();
        let arguments = match &self.arguments {
            Ok(arguments) => arguments.clone(),
            Err(parse_error) => {
                return McpCallOutcome {
                    item: None,
                    output: tool_output_parts(
                        started.elapsed(),
                        &[text_part(&format!("err: {parse_error}"))],
                    ),
                    success: false,
                }
            }
        };
        let item_arguments = arguments.clone().unwrap_or(Value::Null);
        match self.target.clone() {
            McpCallTarget::Resource(kind) => {
                self.run_resource_tool(kind, arguments, item_arguments, ctx.cancel, started)
                    .await
            }
            McpCallTarget::Tool { server, tool } => {
                self.run_tool(&server, &tool, arguments, item_arguments, &ctx, started)
                    .await
            }
        }
    }

    async fn run_resource_tool(
        &self,
        kind: crate::tools::ResourceTool,
        arguments: Option<Value>,
        item_arguments: Value,
        cancel: &CancellationToken,
        started: Instant,
    ) -> McpCallOutcome {
        let result = tokio::select! {
            result = resources::run(&self.manager, kind, arguments.as_ref(), cancel) => result,
            _ = cancel.cancelled() => Err(McpError::Cancelled.to_string()),
        };
        let duration = started.elapsed();
        match result {
            Ok(payload) => McpCallOutcome {
                item: Some(self.item(
                    item_arguments,
                    McpToolCallStatus::Completed,
                    Some(McpToolCallResult {
                        content: vec![json!({"type": "text", "text": payload})],
                        structured_content: None,
                        meta: None,
                    }),
                    None,
                    Some(duration),
                )),
                output: Value::String(payload),
                success: true,
            },
            Err(message) => self.failed(
                item_arguments,
                message.clone(),
                Value::String(message),
                duration,
            ),
        }
    }

    async fn run_tool<A: ApprovalAsker>(
        &mut self,
        server: &str,
        tool: &str,
        arguments: Option<Value>,
        item_arguments: Value,
        ctx: &CallContext<'_, A>,
        started: Instant,
    ) -> McpCallOutcome {
        if self.annotations.is_none() && self.tool_title.is_none() {
            // The server was not running when the call began (a crash, a slow start): start
            // it now so the approval decision sees the tool's annotations.
            if self.manager.live(server, ctx.cancel).await.is_ok() {
                if let Some(info) = self.manager.running_tool(server, tool) {
                    self.annotations = info.annotations;
                    self.tool_title = info.title;
                    self.tool_description = info.description;
                }
            }
        }
        let mode = self
            .manager
            .slot(server)
            .map(|slot| slot.config.approval_mode(tool))
            .unwrap_or_default();
        let requirement = approval::approval_requirement(
            self.annotations.as_ref(),
            mode,
            ctx.approval_policy,
            ctx.sandbox_policy,
        );
        let session_key = (server.to_string(), tool.to_string());
        match requirement {
            ApprovalRequirement::None => {}
            ApprovalRequirement::Refuse(message) => {
                return self.refused(item_arguments, message, started);
            }
            ApprovalRequirement::Ask {
                remember_for_session,
            } => {
                let remembered = remember_for_session
                    && self
                        .manager
                        .inner
                        .session_approvals
                        .lock()
                        .is_ok_and(|set| set.contains(&session_key));
                if !remembered {
                    let params = approval::approval_request(&ApprovalSubject {
                        thread_id: ctx.thread_id,
                        turn_id: ctx.turn_id,
                        server,
                        tool,
                        tool_title: self.tool_title.as_deref(),
                        tool_description: self.tool_description.as_deref(),
                        arguments: arguments.as_ref(),
                        remember_for_session,
                    });
                    let answer = tokio::select! {
                        answer = ctx.asker.ask(params) => answer,
                        _ = ctx.cancel.cancelled() => {
                            return self.refused(item_arguments, "MCP tool call interrupted", started);
                        }
                    };
                    match approval::decision(answer.as_ref()) {
                        ApprovalDecision::Accept => {}
                        ApprovalDecision::AcceptForSession => {
                            if remember_for_session {
                                if let Ok(mut set) = self.manager.inner.session_approvals.lock() {
                                    set.insert(session_key);
                                }
                            }
                        }
                        ApprovalDecision::Decline => {
                            return self.refused(item_arguments, DECLINED_MESSAGE, started)
                        }
                        ApprovalDecision::Cancel => {
                            return self.refused(item_arguments, CANCELLED_MESSAGE, started)
                        }
                    }
                }
            }
        }
        let call_started = Instant::now();
        let result = self
            .manager
            .call_tool(server, tool, arguments.as_ref(), ctx.cancel)
            .await;
        let duration = call_started.elapsed();
        match result {
            Ok(result) => {
                let failed = result.is_error == Some(true);
                let output = model_output(&result, started.elapsed());
                McpCallOutcome {
                    item: Some(self.item(
                        item_arguments,
                        if failed {
                            McpToolCallStatus::Failed
                        } else {
                            McpToolCallStatus::Completed
                        },
                        Some(McpToolCallResult {
                            content: result.content,
                            structured_content: result.structured_content,
                            meta: result.meta,
                        }),
                        None,
                        Some(duration),
                    )),
                    output,
                    success: !failed,
                }
            }
            Err(error) => {
                let message =
                    format!("tool call error: tool call failed for `{server}/{tool}`: {error}");
                let output = tool_output_parts(started.elapsed(), &[text_part(&message)]);
                self.failed(item_arguments, message, output, duration)
            }
        }
    }

    fn refused(&self, arguments: Value, message: &str, started: Instant) -> McpCallOutcome {
        let output = tool_output_parts(started.elapsed(), &[text_part(message)]);
        self.failed(arguments, message.to_string(), output, Duration::ZERO)
    }

    fn failed(
        &self,
        arguments: Value,
        message: String,
        output: Value,
        duration: Duration,
    ) -> McpCallOutcome {
        McpCallOutcome {
            item: Some(self.item(
                arguments,
                McpToolCallStatus::Failed,
                None,
                Some(McpToolCallError { message }),
                Some(duration),
            )),
            output,
            success: false,
        }
    }

    fn item(
        &self,
        arguments: Value,
        status: McpToolCallStatus,
        result: Option<McpToolCallResult>,
        error: Option<McpToolCallError>,
        duration: Option<Duration>,
    ) -> ThreadItem {
        ThreadItem::McpToolCall {
            id: self.call_id.clone(),
            server: self.item_server.clone(),
            tool: self.item_tool.clone(),
            status,
            arguments,
            app_context: None,
            mcp_app_ui: None,
            plugin_id: None,
            read_only_hint: self
                .annotations
                .as_ref()
                .and_then(|a| a.get("readOnlyHint"))
                .and_then(Value::as_bool),
            result,
            error,
            duration_ms: duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

impl McpManager {
    /// `tools/call` on a server, starting it if needed, under its `tool_timeout_sec`. A broken
    /// connection fails this call and sends the server back to be restarted on next use.
    pub(crate) async fn call_tool(
        &self,
        server: &str,
        tool: &str,
        arguments: Option<&Value>,
        cancel: &CancellationToken,
    ) -> Result<CallResult, McpError> {
        let arguments = match arguments {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map.clone()),
            Some(other) => {
                return Err(McpError::Protocol(format!(
                    "tool arguments must be a JSON object, got {other}"
                )))
            }
        };
        let (slot, live) = self.live(server, cancel).await?;
        let timeout = slot.config.tool_timeout;
        let result = tokio::select! {
            _ = cancel.cancelled() => return Err(McpError::Cancelled),
            result = tokio::time::timeout(timeout, live.conn.call_tool(tool, arguments)) => result,
        };
        match result {
            Ok(Err(error @ McpError::ConnectionClosed { .. })) => {
                self.connection_lost(&slot, &live);
                Err(error)
            }
            Ok(result) => {
                if live.conn.is_closed() {
                    self.connection_lost(&slot, &live);
                }
                result
            }
            Err(_) => Err(McpError::Timeout {
                method: "tools/call",
                timeout,
            }),
        }
    }
}

/// The model's view of a tool result.
pub fn model_output(result: &CallResult, wall_time: Duration) -> Value {
    if let Some(structured) = &result.structured_content {
        return Value::String(format!("{}\n{structured}", header(wall_time)));
    }
    let parts: Vec<Value> = result.content.iter().map(content_part).collect();
    tool_output_parts(wall_time, &parts)
}

fn header(wall_time: Duration) -> String {
    format!("Wall time: {:.4} seconds\nOutput:", wall_time.as_secs_f64())
}

fn tool_output_parts(wall_time: Duration, parts: &[Value]) -> Value {
    let mut out = vec![text_part(&header(wall_time))];
    out.extend_from_slice(parts);
    Value::Array(out)
}

fn text_part(text: &str) -> Value {
    json!({"type": "input_text", "text": text})
}

fn content_part(block: &Value) -> Value {
    match block.get("type").and_then(Value::as_str) {
        Some("text") => text_part(
            block
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        ),
        Some("image") => {
            let mime = block
                .get("mimeType")
                .and_then(Value::as_str)
                .unwrap_or("image/png");
            let data = block
                .get("data")
                .and_then(Value::as_str)
                .unwrap_or_default();
            json!({"type": "input_image", "image_url": format!("data:{mime};base64,{data}"), "detail": "high"})
        }
        _ => text_part(&block.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_blocks_follow_a_wall_time_header() {
        let result = CallResult {
            content: vec![
                json!({"type": "text", "text": "Here's the image you requested:"}),
                json!({"type": "image", "data": "iVBO", "mimeType": "image/png"}),
            ],
            structured_content: None,
            is_error: None,
            meta: None,
        };
        assert_eq!(
            model_output(&result, Duration::from_micros(3700)),
            json!([
                {"type": "input_text", "text": "Wall time: 0.0037 seconds\nOutput:"},
                {"type": "input_text", "text": "Here's the image you requested:"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBO", "detail": "high"}
            ])
        );
    }

    #[test]
    fn structured_content_is_one_string() {
        let result = CallResult {
            content: vec![json!({"type": "text", "text": "ignored"})],
            structured_content: Some(json!({"timezone": "Etc/UTC", "is_dst": false})),
            is_error: None,
            meta: None,
        };
        assert_eq!(
            model_output(&result, Duration::from_millis(19)),
            json!(
                "Wall time: 0.0190 seconds\nOutput:\n{\"is_dst\":false,\"timezone\":\"Etc/UTC\"}"
            )
        );
    }
}
