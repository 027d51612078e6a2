//! Wire shapes of client-defined ("dynamic") tools: the `item/tool/call` server request and its
//! answer, and the `thread/start` params carrying `dynamicTools`. Shapes follow the official
//! 0.163 schema.
//!
//! These live here only until `codex-protocol` on this branch has them (main's
//! `v2/dynamic_tools.rs` defines the same shapes and adds `dynamicTools` to
//! `ThreadStartParams`); then this module becomes re-exports of those types.

use codex_protocol::methods::ServerRequest;
use codex_protocol::v2::ThreadStartParams;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `item/tool/call`: run one of the client's tools.
pub(crate) struct DynamicToolCall;

impl ServerRequest for DynamicToolCall {
    const NAME: &'static str = "item/tool/call";
    type Params = DynamicToolCallParams;
    type Response = DynamicToolCallResponse;
}

/// Params of `item/tool/call`: run tool `tool` (in `namespace`, null for a top-level tool)
/// with the model's `arguments`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DynamicToolCallParams {
    pub thread_id: String,
    pub turn_id: String,
    pub call_id: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub arguments: Value,
}

/// The client's answer to `item/tool/call`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DynamicToolCallResponse {
    pub content_items: Vec<DynamicToolCallOutputContentItem>,
    pub success: bool,
}

/// One piece of a tool's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub(crate) enum DynamicToolCallOutputContentItem {
    InputText {
        text: String,
    },
    #[serde(rename_all = "camelCase")]
    InputImage {
        image_url: String,
    },
}

/// `thread/start` params with the tool specs the model may call (a list of
/// `{type:"function", name, description, inputSchema}`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ThreadStartWithTools<'a> {
    #[serde(flatten)]
    pub settings: &'a ThreadStartParams,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dynamic_tools: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_match_the_official_schema() {
        let params: DynamicToolCallParams = serde_json::from_value(json!({
            "threadId": "t", "turnId": "u", "callId": "c", "namespace": null,
            "tool": "add", "arguments": {"a": 1}
        }))
        .unwrap();
        assert_eq!(params.tool, "add");
        let answer = DynamicToolCallResponse {
            content_items: vec![
                DynamicToolCallOutputContentItem::InputText { text: "3".into() },
                DynamicToolCallOutputContentItem::InputImage {
                    image_url: "data:,".into(),
                },
            ],
            success: true,
        };
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({"contentItems": [{"type": "inputText", "text": "3"},
                                    {"type": "inputImage", "imageUrl": "data:,"}],
                   "success": true})
        );
        let settings = ThreadStartParams {
            model: Some("m".into()),
            ..Default::default()
        };
        let with = ThreadStartWithTools {
            settings: &settings,
            dynamic_tools: vec![json!({"type": "function", "name": "x"})],
        };
        assert_eq!(
            serde_json::to_value(with).unwrap(),
            json!({"model": "m", "dynamicTools": [{"type": "function", "name": "x"}]})
        );
        let without = ThreadStartWithTools {
            settings: &settings,
            dynamic_tools: vec![],
        };
        assert_eq!(
            serde_json::to_value(without).unwrap(),
            json!({"model": "m"})
        );
    }
}
