//! MCP tools as [`Tool`]s: one per server namespace (`mcp__<server>`, its spec the namespace
//! object the `codex-mcp` catalogue builds) and one per resource tool (`list_mcp_resources`,
//! `list_mcp_resource_templates`, `read_mcp_resource`). Each holds the catalogue snapshot it
//! was advertised from, so a call resolves against exactly what the model saw.
//!
//! A call: `item/started` (an `mcpToolCall` item), then the approval question when the tool
//! needs one (`mcpServer/elicitation/request` with the thread's `waitingOnApproval` flag up,
//! then `serverRequest/resolved`), the call itself under the server's `tool_timeout_sec`,
//! and `item/completed`. The output for the model is the crate's, with core's truncation of
//! long text applied.

use super::call::{ToolCall, ToolError, ToolOutput, ToolPayload};
use super::context::{CallScope, ToolCtx};
use super::tool::{Family, Tool, ToolFuture, ToolNeeds};
use crate::clock::now_ms;
use codex_exec::TruncationPolicy;
use codex_mcp::{ApprovalAsker, CallContext, McpManager, McpTools};
use codex_protocol::methods as m;
use codex_protocol::v2::{
    McpServerElicitationRequestParams, McpServerElicitationRequestResponse,
    ServerRequestResolvedNotification,
};
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

/// One entry of an MCP catalogue: a server's namespace or a resource tool.
pub struct McpTool {
    name: String,
    spec: Value,
    catalogue: Arc<McpTools>,
    manager: McpManager,
}

impl McpTool {
    /// A tool per advertised spec of `catalogue`, in its order (resource tools, then one
    /// namespace per ready server).
    pub fn all(manager: &McpManager, catalogue: McpTools) -> Vec<Arc<dyn Tool>> {
        let catalogue = Arc::new(catalogue);
        catalogue
            .model_tools()
            .into_iter()
            .filter_map(|spec| {
                let name = spec.get("name")?.as_str()?.to_string();
                let tool: Arc<dyn Tool> = Arc::new(McpTool {
                    name,
                    spec,
                    catalogue: Arc::clone(&catalogue),
                    manager: manager.clone(),
                });
                Some(tool)
            })
            .collect()
    }
}

impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }

    fn spec(&self, _family: Family) -> Option<Value> {
        Some(self.spec.clone())
    }

    fn needs(&self) -> ToolNeeds {
        ToolNeeds {
            sandbox: false,
            approval: true,
        }
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(self.run(call, scope))
    }
}

impl McpTool {
    async fn run(&self, call: &ToolCall, scope: &mut CallScope) -> Result<ToolOutput, ToolError> {
        let target = self
            .catalogue
            .resolve(call.namespace.as_deref(), &call.name)
            .ok_or_else(|| {
                let shown = match &call.namespace {
                    Some(ns) => format!("{ns}{}", call.name),
                    None => call.name.clone(),
                };
                ToolError::Unknown(shown)
            })?;
        let raw_arguments = match &call.payload {
            ToolPayload::Function { arguments } => arguments.as_str(),
            ToolPayload::Custom { input } => input.as_str(),
        };
        let mcp_call = self
            .manager
            .begin_call(&call.call_id, target, raw_arguments);
        let ctx = scope.ctx.clone();
        let started_ms = now_ms();
        if let Some(item) = mcp_call.started_item() {
            ctx.item_started(&item, started_ms).await;
        }
        let asker = ClientAsker { ctx: &ctx };
        let outcome = mcp_call
            .run(CallContext {
                thread_id: &ctx.thread_id,
                turn_id: &ctx.turn_id,
                approval_policy: &ctx.settings.approval_policy,
                sandbox_policy: &ctx.settings.sandbox,
                asker: &asker,
                cancel: &ctx.cancel,
            })
            .await;
        if let Some(item) = outcome.item {
            scope.item_completed(item, started_ms).await;
        }
        Ok(model_output(outcome.output))
    }
}

/// The crate's output with long text cut in the middle, as core cuts command output.
fn model_output(output: Value) -> ToolOutput {
    let budget = TruncationPolicy::Tokens(codex_exec::format::DEFAULT_MAX_OUTPUT_TOKENS);
    match output {
        Value::String(text) => ToolOutput::Text(codex_exec::truncate_middle(&text, budget)),
        Value::Array(parts) => ToolOutput::Content(
            parts
                .into_iter()
                .map(|mut part| {
                    if let Some(Value::String(text)) = part.get_mut("text") {
                        *text = codex_exec::truncate_middle(text, budget);
                    }
                    part
                })
                .collect(),
        ),
        other => ToolOutput::Text(other.to_string()),
    }
}

/// Asks the client whether an MCP tool may run, on the connection that started the turn.
struct ClientAsker<'a> {
    ctx: &'a ToolCtx,
}

impl ApprovalAsker for ClientAsker<'_> {
    fn ask(
        &self,
        params: McpServerElicitationRequestParams,
    ) -> impl Future<Output = Option<McpServerElicitationRequestResponse>> + Send {
        let ctx = self.ctx;
        async move {
            ctx.set_waiting(true, true).await;
            let answer = match ctx.sink.request::<m::McpServerElicitation>(&params).await {
                Err(e) => {
                    tracing::warn!("cannot ask for MCP tool approval: {e}");
                    None
                }
                Ok(handle) => {
                    let id = handle.id().clone();
                    let reply = tokio::select! {
                        reply = handle.raw() => reply.ok(),
                        _ = ctx.cancel.cancelled() => None,
                    };
                    ctx.sink
                        .notify::<m::ServerRequestResolved>(&ServerRequestResolvedNotification {
                            thread_id: ctx.thread_id.clone(),
                            request_id: id,
                        })
                        .await;
                    // An answer that does not parse counts as no answer (a decline).
                    reply.and_then(|value| serde_json::from_value(value).ok())
                }
            };
            // An interrupted turn announces its final status itself.
            ctx.set_waiting(false, !ctx.cancel.is_cancelled()).await;
            answer
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_text_is_cut_in_the_middle_and_short_text_kept() {
        let long = "line\n".repeat(20_000);
        let ToolOutput::Content(parts) = model_output(json!([
            {"type": "input_text", "text": "Wall time: 0.1 seconds\nOutput:"},
            {"type": "input_text", "text": long},
        ])) else {
            panic!("expected parts");
        };
        assert_eq!(parts[0]["text"], "Wall time: 0.1 seconds\nOutput:");
        let cut = parts[1]["text"].as_str().unwrap();
        assert!(
            cut.len() < long.len() && cut.contains("tokens truncated"),
            "{}",
            &cut[..80]
        );
        assert_eq!(
            model_output(json!("Wall time: 0.1 seconds\nOutput:\n{}")),
            ToolOutput::Text("Wall time: 0.1 seconds\nOutput:\n{}".into())
        );
    }
}
