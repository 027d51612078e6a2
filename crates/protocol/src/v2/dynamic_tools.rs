//! Client-defined ("dynamic") tools, an experimental API: the tool specs a client passes in
//! `thread/start.dynamicTools`, the `item/tool/call` server request that asks the client to run
//! one, its answer, and the pieces of the `dynamicToolCall` thread item.
//!
//! Only a client whose `initialize` set `capabilities.experimentalApi` may send `dynamicTools`.
//! Shapes follow the official 0.163 schema (`codex app-server generate-json-schema
//! --experimental`), plus the legacy untyped `{name, description, inputSchema}` spec that the
//! official runtime still accepts.

use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One entry of `thread/start.dynamicTools`. The two typed shapes are canonical; a list mixes
/// either typed or legacy entries, never both (the server rejects a mix).
///
/// Deserialized by its `type`: `"function"`, `"namespace"`, or absent for the legacy shape; any
/// other `type` is an error (an untagged enum would take it for a legacy spec).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DynamicToolSpec {
    Function(FunctionDynamicToolSpec),
    Namespace(NamespaceDynamicToolSpec),
    Legacy(LegacyDynamicToolSpec),
}

impl<'de> Deserialize<'de> for DynamicToolSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = Value::deserialize(deserializer)?;
        let kind = value.get("type").map(|t| t.as_str().map(str::to_owned));
        match kind {
            None => serde_json::from_value(value).map(DynamicToolSpec::Legacy),
            Some(Some(kind)) if kind == "function" => {
                serde_json::from_value(value).map(DynamicToolSpec::Function)
            }
            Some(Some(kind)) if kind == "namespace" => {
                serde_json::from_value(value).map(DynamicToolSpec::Namespace)
            }
            Some(other) => {
                let shown = other.unwrap_or_else(|| "a non-string".to_owned());
                return Err(D::Error::custom(format!(
                    "unknown dynamic tool type {shown:?}, expected \"function\" or \"namespace\""
                )));
            }
        }
        .map_err(D::Error::custom)
    }
}

/// The `type` tag of a function tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionToolType {
    #[serde(rename = "function")]
    Function,
}

/// The `type` tag of a namespace of tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceToolType {
    #[serde(rename = "namespace")]
    Namespace,
}

/// A one-value string enum, written inline where a tag is used (as the official schema has it),
/// so generated clients see a literal instead of a one-member type.
fn tag_schema(value: &str) -> Schema {
    SchemaObject {
        instance_type: Some(InstanceType::String.into()),
        enum_values: Some(vec![Value::from(value)]),
        ..Default::default()
    }
    .into()
}

fn function_tag(_: &mut SchemaGenerator) -> Schema {
    tag_schema("function")
}

fn namespace_tag(_: &mut SchemaGenerator) -> Schema {
    tag_schema("namespace")
}

/// `{type:"function", name, description, inputSchema, deferLoading?}`: one tool, advertised to
/// the model as given (`inputSchema` is a JSON Schema object).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDynamicToolSpec {
    #[serde(rename = "type")]
    #[schemars(schema_with = "function_tag")]
    pub kind: FunctionToolType,
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_loading: Option<bool>,
}

/// `{type:"namespace", name, description, tools}`: tools the model calls as `namespace` + `name`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceDynamicToolSpec {
    #[serde(rename = "type")]
    #[schemars(schema_with = "namespace_tag")]
    pub kind: NamespaceToolType,
    pub name: String,
    pub description: String,
    pub tools: Vec<FunctionDynamicToolSpec>,
}

/// The legacy untyped shape `{name, description, inputSchema}`, treated as a function tool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyDynamicToolSpec {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

/// Params of the `item/tool/call` server request: run the client's tool `tool` (in
/// `namespace`, null for a top-level tool) with the model's `arguments`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallParams {
    pub thread_id: String,
    pub turn_id: String,
    pub call_id: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub tool: String,
    pub arguments: Value,
}

/// The client's answer to `item/tool/call`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DynamicToolCallResponse {
    pub content_items: Vec<DynamicToolCallOutputContentItem>,
    pub success: bool,
}

/// One piece of a tool's output, as the client returns it and the `dynamicToolCall` item shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DynamicToolCallOutputContentItem {
    #[schemars(title = "InputTextDynamicToolCallOutputContentItem")]
    InputText { text: String },
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "InputImageDynamicToolCallOutputContentItem")]
    InputImage { image_url: String },
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "InputAudioDynamicToolCallOutputContentItem")]
    InputAudio { audio_url: String },
}

/// Lifecycle of a `dynamicToolCall` item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum DynamicToolCallStatus {
    InProgress,
    Completed,
    Failed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::ThreadItem;
    use serde_json::json;

    #[test]
    fn dynamic_tool_call_item_emits_every_field() {
        let item = ThreadItem::DynamicToolCall {
            id: "call_1".into(),
            tool: "add".into(),
            namespace: None,
            arguments: json!({"a": 1}),
            status: DynamicToolCallStatus::InProgress,
            content_items: None,
            success: None,
            duration_ms: None,
        };
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"type": "dynamicToolCall", "id": "call_1", "tool": "add", "namespace": null,
                   "arguments": {"a": 1}, "status": "inProgress", "contentItems": null,
                   "success": null, "durationMs": null})
        );
        assert_eq!(item.id(), "call_1");
    }

    #[test]
    fn specs_of_each_shape_round_trip() {
        let listed = json!([
            {"type": "function", "name": "add", "description": "Add.", "inputSchema": {"type": "object"}},
            {"type": "namespace", "name": "math", "description": "Math.", "tools": [
                {"type": "function", "name": "mul", "description": "Mul.", "inputSchema": {}, "deferLoading": true}
            ]},
            {"name": "old", "description": "Legacy.", "inputSchema": {"type": "object"}}
        ]);
        let specs: Vec<DynamicToolSpec> = serde_json::from_value(listed.clone()).unwrap();
        assert!(matches!(specs[0], DynamicToolSpec::Function(_)));
        assert!(
            matches!(&specs[1], DynamicToolSpec::Namespace(n) if n.tools[0].defer_loading == Some(true))
        );
        assert!(matches!(specs[2], DynamicToolSpec::Legacy(_)));
        assert_eq!(serde_json::to_value(&specs).unwrap(), listed);
    }

    #[test]
    fn unknown_or_incomplete_tools_are_rejected_with_a_reason() {
        let odd = json!({"type": "shell", "name": "x", "description": "", "inputSchema": {}});
        let err = serde_json::from_value::<DynamicToolSpec>(odd).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown dynamic tool type \"shell\""),
            "{err}"
        );
        let partial = json!({"type": "function", "name": "x", "inputSchema": {}});
        let err = serde_json::from_value::<DynamicToolSpec>(partial).unwrap_err();
        assert!(err.to_string().contains("description"), "{err}");
    }

    #[test]
    fn call_params_emit_a_null_namespace_and_the_answer_parses() {
        let params = DynamicToolCallParams {
            thread_id: "t".into(),
            turn_id: "u".into(),
            call_id: "c".into(),
            namespace: None,
            tool: "add".into(),
            arguments: json!({"a": 1}),
        };
        assert_eq!(
            serde_json::to_value(&params).unwrap(),
            json!({"threadId": "t", "turnId": "u", "callId": "c", "namespace": null, "tool": "add", "arguments": {"a": 1}})
        );
        let answer: DynamicToolCallResponse = serde_json::from_value(json!({
            "contentItems": [{"type": "inputText", "text": "3"}, {"type": "inputImage", "imageUrl": "data:,"}],
            "success": true
        }))
        .unwrap();
        assert_eq!(
            answer.content_items[1],
            DynamicToolCallOutputContentItem::InputImage {
                image_url: "data:,".into()
            }
        );
    }
}
