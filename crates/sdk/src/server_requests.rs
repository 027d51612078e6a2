//! Answering server-to-client requests. Each request is answered from its own task, so a
//! handler that waits (a person deciding, a slow tool) never blocks other traffic:
//!
//! - `item/tool/call` for a thread with client tools runs the thread's tool;
//! - the approval requests go to the [`ApprovalHandler`] (or get the default decision);
//! - anything else is answered -32601 (method not found).
//!
//! A request the server withdraws (`serverRequest/resolved` before our answer, e.g. when the
//! turn is interrupted) has its task aborted, which drops the handler's future; so does closing
//! the client. User code that panics is contained: a tool answers `success: false`, an approval
//! handler -32603.

use crate::approvals::{ApprovalHandler, ApprovalRequest, BoxFuture};
use crate::tools::{ToolCall, ToolContent, ToolOutput, Toolset};
use codex_jsonrpc::{Frame, Peer};
use codex_protocol::jsonrpc::{error_codes, JsonRpcErrorBody, RequestId};
use codex_protocol::methods::typed::{DecodeError, ServerRequest as TypedRequest};
use codex_protocol::methods::{DynamicToolCall, ServerRequest as _};
use codex_protocol::v2::{
    ApprovalDecision, CommandExecutionApprovalDecision, CommandExecutionRequestApprovalResponse,
    DynamicToolCallOutputContentItem, DynamicToolCallParams, DynamicToolCallResponse,
    FileChangeRequestApprovalResponse,
};
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::task::AbortHandle;

/// How the client answers server requests.
pub(crate) struct Responder {
    /// Released when the connection ends, so whoever waits on a deferred handler's queue
    /// sees it end.
    approvals: Mutex<Option<Arc<dyn ApprovalHandler>>>,
    approval_default: ApprovalDecision,
    tools: Mutex<HashMap<String, Arc<Toolset>>>,
    in_flight: Arc<Mutex<HashMap<RequestId, AbortHandle>>>,
}

impl Responder {
    pub fn new(
        approvals: Option<Arc<dyn ApprovalHandler>>,
        approval_default: ApprovalDecision,
    ) -> Responder {
        Responder {
            approvals: Mutex::new(approvals),
            approval_default,
            tools: Mutex::new(HashMap::new()),
            in_flight: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Answers `item/tool/call` for `thread_id` with `tools` from now on.
    pub fn register_tools(&self, thread_id: &str, tools: Arc<Toolset>) {
        if tools.is_empty() {
            return;
        }
        if let Ok(mut map) = self.tools.lock() {
            map.insert(thread_id.to_string(), tools);
        }
    }

    /// Starts answering one request.
    pub fn on_request(&self, peer: &Peer, id: RequestId, method: String, params: Option<Value>) {
        let answer = self.answer(&method, params);
        let peer = peer.clone();
        let in_flight = self.in_flight.clone();
        let reply_id = id.clone();
        // Held across the spawn so the task's own removal happens after this insert.
        let Ok(mut running) = self.in_flight.lock() else {
            return;
        };
        let task = tokio::spawn(async move {
            let frame = match answer.await {
                Ok(result) => Frame::response(&reply_id, &result).unwrap_or_else(|e| {
                    Frame::error(Some(&reply_id), &JsonRpcErrorBody::internal(e.to_string()))
                }),
                Err(error) => Frame::error(Some(&reply_id), &error),
            };
            if peer.send(frame).await.is_err() {
                tracing::debug!("answer to server request {reply_id} dropped: connection closed");
            }
            if let Ok(mut running) = in_flight.lock() {
                running.remove(&reply_id);
            }
        });
        running.insert(id, task.abort_handle());
    }

    /// The server withdrew request `id`: stop working on it.
    pub fn withdrawn(&self, id: &RequestId) {
        let task = self.in_flight.lock().ok().and_then(|mut m| m.remove(id));
        if let Some(task) = task {
            task.abort();
        }
    }

    /// Stops every request still being answered and releases the handler and the tools
    /// (the connection ended).
    pub fn abort_all(&self) {
        if let Ok(mut approvals) = self.approvals.lock() {
            approvals.take();
        }
        if let Ok(mut tools) = self.tools.lock() {
            tools.clear();
        }
        let tasks: Vec<AbortHandle> = match self.in_flight.lock() {
            Ok(mut m) => m.drain().map(|(_, task)| task).collect(),
            Err(_) => Vec::new(),
        };
        for task in tasks {
            task.abort();
        }
    }

    /// The answer to one request, as a future of its result or error.
    fn answer(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> BoxFuture<Result<Value, JsonRpcErrorBody>> {
        if method == DynamicToolCall::NAME {
            return self.tool_answer(params);
        }
        let request = match TypedRequest::decode(method, params) {
            Ok(TypedRequest::CommandExecutionRequestApproval(p)) => {
                ApprovalRequest::CommandExecution(p)
            }
            Ok(TypedRequest::FileChangeRequestApproval(p)) => ApprovalRequest::FileChange(p),
            // Tool calls are answered above; MCP elicitations have no handler in this SDK yet,
            // and the server takes an unanswerable request as a decline.
            Ok(TypedRequest::DynamicToolCall(_) | TypedRequest::McpServerElicitation(_)) => {
                return ready(Err(not_handled(method)));
            }
            Err(DecodeError::UnknownMethod(method)) => {
                return ready(Err(not_handled(&method)));
            }
            Err(e @ DecodeError::InvalidParams { .. }) => {
                return ready(Err(JsonRpcErrorBody::invalid_params(e.to_string())));
            }
        };
        let default = self.approval_default;
        let handler = self.approvals.lock().ok().and_then(|h| h.clone());
        Box::pin(async move {
            let decision = match handler {
                None => default,
                Some(handler) => {
                    let asked = request.clone();
                    // The handler is called inside the guarded future, so a panic while it
                    // builds its future is contained too.
                    let deciding = Box::pin(async move { handler.decide(asked).await });
                    match CatchUnwind(deciding).await {
                        Ok(decision) => decision.unwrap_or(default),
                        Err(()) => {
                            return Err(JsonRpcErrorBody::internal("the approval handler panicked"))
                        }
                    }
                }
            };
            let answer = match request {
                ApprovalRequest::CommandExecution(_) => {
                    serde_json::to_value(CommandExecutionRequestApprovalResponse {
                        decision: CommandExecutionApprovalDecision::Simple(decision),
                    })
                }
                ApprovalRequest::FileChange(_) => {
                    serde_json::to_value(FileChangeRequestApprovalResponse { decision })
                }
            };
            answer.map_err(|e| JsonRpcErrorBody::internal(e.to_string()))
        })
    }

    fn tool_answer(&self, params: Option<Value>) -> BoxFuture<Result<Value, JsonRpcErrorBody>> {
        let params: DynamicToolCallParams =
            match serde_json::from_value(params.unwrap_or(Value::Null)) {
                Ok(p) => p,
                Err(e) => {
                    return ready(Err(JsonRpcErrorBody::invalid_params(format!(
                        "invalid params for {}: {e}",
                        DynamicToolCall::NAME
                    ))))
                }
            };
        let toolset = self
            .tools
            .lock()
            .ok()
            .and_then(|m| m.get(&params.thread_id).cloned());
        let Some(toolset) = toolset else {
            // A thread without client tools: as for any request this client does not handle.
            return ready(Err(not_handled(DynamicToolCall::NAME)));
        };
        let name = params.tool.clone();
        let namespace = params.namespace.clone();
        let tool = toolset
            .get(params.namespace.as_deref(), &params.tool)
            .cloned();
        Box::pin(async move {
            let output = match tool {
                Some(tool) => {
                    let call = ToolCall {
                        thread_id: params.thread_id,
                        turn_id: params.turn_id,
                        call_id: params.call_id,
                        tool: params.tool,
                        namespace: params.namespace,
                        arguments: params.arguments,
                    };
                    let running = Box::pin(async move { tool.call(call).await });
                    CatchUnwind(running)
                        .await
                        .unwrap_or_else(|()| ToolOutput::failure(format!("tool {name:?} panicked")))
                }
                None => {
                    let shown = match namespace {
                        Some(ns) => format!("{ns}.{name}"),
                        None => name,
                    };
                    ToolOutput::failure(format!(
                        "no tool named {shown} is registered for this thread"
                    ))
                }
            };
            serde_json::to_value(wire_output(output))
                .map_err(|e| JsonRpcErrorBody::internal(e.to_string()))
        })
    }
}

fn wire_output(output: ToolOutput) -> DynamicToolCallResponse {
    DynamicToolCallResponse {
        content_items: output
            .content
            .into_iter()
            .map(|part| match part {
                ToolContent::Text(text) => DynamicToolCallOutputContentItem::InputText { text },
                ToolContent::ImageUrl(image_url) => {
                    DynamicToolCallOutputContentItem::InputImage { image_url }
                }
            })
            .collect(),
        success: output.success,
    }
}

fn not_handled(method: &str) -> JsonRpcErrorBody {
    JsonRpcErrorBody::new(
        error_codes::METHOD_NOT_FOUND,
        format!("client does not handle server request {method}"),
    )
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

/// Polls a future, turning a panic inside it into `Err(())`, so user code cannot take the
/// answering task down without an answer.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.0;
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(())),
        }
    }
}
