//! Tools the model can call: their specs as advertised to the model, and dispatch of the calls
//! in one response (in parallel where the tool allows it, outputs kept in call order).
//!
//! # Layout
//! - `spec`: tool definitions per model family.
//! - `context`: the per-call view of the turn ([`context::ToolCtx`]) that lets calls run
//!   concurrently; items they complete are recorded into the turn afterwards, in call order.
//! - `shell` (+ `command`, `sessions`): `exec_command`, `shell_command`, `write_stdin`.
//! - `approval`: approval requirements and the client round trip.
//! - `patch` (+ `diff`): `apply_patch` and the turn diff.
//! - `image`: `view_image`. `plan`: `update_plan`.

mod approval;
mod command;
mod context;
mod diff;
mod image;
mod patch;
mod plan;
mod sessions;
mod shell;
mod spec;

pub use sessions::ThreadTools;

use crate::turn::TurnRun;
use codex_protocol::v2::TurnError;
use context::{CallScope, Completed, ToolCtx};
use serde_json::{json, Value};

/// One tool call from a model response.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub call_id: String,
    pub name: String,
    pub payload: ToolPayload,
}

#[derive(Clone, Debug)]
pub enum ToolPayload {
    /// `function_call`: JSON arguments as a string.
    Function { arguments: String },
    /// `custom_tool_call`: freeform input (apply_patch).
    Custom { input: String },
}

impl ToolCall {
    pub fn from_item(item: &Value) -> Option<ToolCall> {
        let call_id = item["call_id"].as_str()?.to_string();
        let name = item["name"].as_str().unwrap_or_default().to_string();
        match item["type"].as_str()? {
            "function_call" => Some(ToolCall {
                call_id,
                name,
                payload: ToolPayload::Function {
                    arguments: item["arguments"].as_str().unwrap_or("{}").to_string(),
                },
            }),
            "custom_tool_call" => Some(ToolCall {
                call_id,
                name,
                payload: ToolPayload::Custom {
                    input: item["input"].as_str().unwrap_or_default().to_string(),
                },
            }),
            _ => None,
        }
    }

    /// The output item sent back to the model.
    pub fn output(&self, text: String) -> Value {
        match self.payload {
            ToolPayload::Function { .. } => {
                json!({"type": "function_call_output", "call_id": self.call_id, "output": text})
            }
            ToolPayload::Custom { .. } => {
                json!({"type": "custom_tool_call_output", "call_id": self.call_id, "output": text})
            }
        }
    }

    /// A `function_call_output` whose output is a list of content items.
    pub fn output_content(&self, items: Vec<Value>) -> Value {
        json!({"type": "function_call_output", "call_id": self.call_id, "output": items})
    }

    pub fn arguments(&self) -> Result<Value, String> {
        match &self.payload {
            ToolPayload::Function { arguments } => serde_json::from_str(arguments)
                .map_err(|e| format!("failed to parse function arguments: {e}")),
            ToolPayload::Custom { input } => Ok(Value::String(input.clone())),
        }
    }
}

/// What a tool gives back to the model.
pub enum ToolOutput {
    Text(String),
    /// Content items (e.g. `input_image`), sent as a `function_call_output` array.
    Content(Vec<Value>),
}

/// Tool specs advertised to the model.
pub fn specs(settings: &crate::settings::ThreadSettings) -> Vec<Value> {
    spec::specs(&settings.model)
}

/// Tools that may run at the same time as each other (they only read shared state or run
/// independent processes); the rest run alone.
fn is_parallel(name: &str) -> bool {
    matches!(name, "exec_command" | "shell_command" | "view_image")
}

async fn dispatch(scope: &mut CallScope, call: &ToolCall) -> ToolOutput {
    let text = match call.name.as_str() {
        "exec_command" => shell::run(scope, call, shell::Kind::ExecCommand).await,
        "shell_command" => shell::run(scope, call, shell::Kind::ShellCommand).await,
        "write_stdin" => shell::write_stdin(scope, call).await,
        "apply_patch" => patch::tool(scope, call).await,
        "update_plan" => plan::run(&scope.ctx, call).await,
        "view_image" => return image::run(scope, call).await,
        other => format!("unsupported call: {other}"),
    };
    ToolOutput::Text(text)
}

async fn run_one(ctx: ToolCtx, call: ToolCall) -> (ToolOutput, Vec<Completed>) {
    if ctx.cancel.is_cancelled() {
        return (ToolOutput::Text("aborted by user".to_string()), Vec::new());
    }
    let mut scope = ctx.scope();
    let output = dispatch(&mut scope, &call).await;
    (output, scope.completed)
}

/// Runs the calls of one response and returns their output items in call order. Consecutive
/// parallel-capable calls run concurrently; any other call runs alone.
pub async fn run_all(turn: &mut TurnRun, calls: Vec<ToolCall>) -> Vec<Value> {
    let ctx = ToolCtx::from_turn(turn).await;
    let mut outputs = Vec::with_capacity(calls.len());
    let mut i = 0;
    while i < calls.len() {
        let mut end = i + 1;
        if is_parallel(&calls[i].name) {
            while end < calls.len() && is_parallel(&calls[end].name) {
                end += 1;
            }
        }
        let batch = &calls[i..end];
        let results: Vec<(ToolOutput, Vec<Completed>)> = if batch.len() == 1 {
            vec![run_one(ctx.clone(), batch[0].clone()).await]
        } else {
            let handles: Vec<_> = batch
                .iter()
                .map(|c| tokio::spawn(run_one(ctx.clone(), c.clone())))
                .collect();
            let mut results = Vec::with_capacity(handles.len());
            for h in handles {
                results.push(h.await.unwrap_or_else(|e| {
                    tracing::error!("tool task failed: {e}");
                    (ToolOutput::Text(format!("tool failed: {e}")), Vec::new())
                }));
            }
            results
        };
        for (call, (output, completed)) in batch.iter().zip(results) {
            context::record(turn, completed);
            outputs.push(match output {
                ToolOutput::Text(text) => call.output(text),
                ToolOutput::Content(items) => call.output_content(items),
            });
        }
        i = end;
    }
    outputs
}

/// A tool failure that must end the turn (none yet: tool errors go back to the model).
pub fn take_fatal(_turn: &mut TurnRun) -> Option<TurnError> {
    None
}
