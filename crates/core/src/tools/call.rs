//! A tool call as the model made it, what a tool gives back, and how a call can fail.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use thiserror::Error;

/// One tool call from a model response.
#[derive(Clone, Debug)]
pub struct ToolCall {
    pub call_id: String,
    /// The namespace the called function lives in (`mcp__<server>`), when the model named one.
    pub namespace: Option<String>,
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
    /// The call in a response output item, if the item is one.
    pub fn from_item(item: &Value) -> Option<ToolCall> {
        let call_id = item["call_id"].as_str()?.to_string();
        let name = item["name"].as_str().unwrap_or_default().to_string();
        let namespace = item["namespace"].as_str().map(str::to_string);
        let payload = match item["type"].as_str()? {
            "function_call" => ToolPayload::Function {
                arguments: item["arguments"].as_str().unwrap_or("{}").to_string(),
            },
            "custom_tool_call" => ToolPayload::Custom {
                input: item["input"].as_str().unwrap_or_default().to_string(),
            },
            _ => return None,
        };
        Some(ToolCall {
            call_id,
            namespace,
            name,
            payload,
        })
    }

    /// The output item sent back to the model.
    pub fn output_item(&self, output: ToolOutput) -> Value {
        match (output, &self.payload) {
            (ToolOutput::Content(items), _) => {
                json!({"type": "function_call_output", "call_id": self.call_id, "output": items})
            }
            (ToolOutput::Text(text), ToolPayload::Function { .. }) => {
                json!({"type": "function_call_output", "call_id": self.call_id, "output": text})
            }
            (ToolOutput::Text(text), ToolPayload::Custom { .. }) => {
                json!({"type": "custom_tool_call_output", "call_id": self.call_id, "output": text})
            }
        }
    }

    /// The arguments as JSON (freeform input as a JSON string).
    ///
    /// # Errors
    /// [`ToolError::Arguments`] when they are not JSON.
    pub fn arguments(&self) -> Result<Value, ToolError> {
        match &self.payload {
            ToolPayload::Function { arguments } => serde_json::from_str(arguments).map_err(|e| {
                ToolError::Arguments(format!("failed to parse function arguments: {e}"))
            }),
            ToolPayload::Custom { input } => Ok(Value::String(input.clone())),
        }
    }

    /// The arguments decoded as `T`.
    ///
    /// # Errors
    /// [`ToolError::Arguments`] naming what did not fit.
    pub fn parse_args<T: DeserializeOwned>(&self) -> Result<T, ToolError> {
        serde_json::from_value(self.arguments()?)
            .map_err(|e| ToolError::Arguments(format!("failed to parse function arguments: {e}")))
    }
}

/// What a tool gives back to the model.
#[derive(Clone, Debug, PartialEq)]
pub enum ToolOutput {
    Text(String),
    /// Content items (e.g. `input_image`), sent as a `function_call_output` array.
    Content(Vec<Value>),
}

/// Why a call produced no regular output. Every variant still answers the model: its text
/// becomes the call's output, so the model can react.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ToolError {
    /// The model's arguments could not be used.
    #[error("{0}")]
    Arguments(String),
    /// No tool of this thread answers the call.
    #[error("unsupported call: {0}")]
    Unknown(String),
    /// The tool refused or failed.
    #[error("{0}")]
    Failed(String),
    /// The turn was interrupted before or during the call.
    #[error("aborted by user")]
    Interrupted,
}
