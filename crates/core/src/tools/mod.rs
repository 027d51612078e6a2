//! Tools the model can call: their specs as advertised to the model, and dispatch of the calls
//! in one response (in parallel where the tool allows it, outputs kept in call order).

mod plan;

use crate::turn::TurnRun;
use codex_protocol::v2::TurnError;
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

    pub fn arguments(&self) -> Result<Value, String> {
        match &self.payload {
            ToolPayload::Function { arguments } => serde_json::from_str(arguments)
                .map_err(|e| format!("failed to parse function arguments: {e}")),
            ToolPayload::Custom { input } => Ok(Value::String(input.clone())),
        }
    }
}

/// Tool specs advertised to the model.
pub fn specs(_settings: &crate::settings::ThreadSettings) -> Vec<Value> {
    vec![plan::spec()]
}

/// Runs the calls of one response and returns their output items in call order.
pub async fn run_all(turn: &mut TurnRun, calls: Vec<ToolCall>) -> Vec<Value> {
    let mut outputs = Vec::with_capacity(calls.len());
    for call in calls {
        if turn.cancel.is_cancelled() {
            outputs.push(call.output("aborted by user".to_string()));
            continue;
        }
        let text = match call.name.as_str() {
            "update_plan" => plan::run(turn, &call).await,
            other => format!("unsupported call: {other}"),
        };
        outputs.push(call.output(text));
    }
    outputs
}

/// A tool failure that must end the turn (none yet: tool errors go back to the model).
pub fn take_fatal(_turn: &mut TurnRun) -> Option<TurnError> {
    None
}
