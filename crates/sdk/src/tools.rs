//! Client-defined tools: Rust closures the model can call. They are registered on
//! `thread/start` (sent as `dynamicTools`, which needs `capabilities.experimentalApi`, on by
//! default in [`crate::CodexConfig`]); when the model calls one, the server sends
//! `item/tool/call` and the SDK runs the closure in its own task and answers with its output.
//!
//! - [`Tool::new`] takes a JSON Schema for the arguments and a closure over the raw call;
//! - [`Tool::typed`] derives the schema from an argument type (`serde` + `schemars`) and
//!   hands the closure decoded arguments; arguments that do not decode are answered with
//!   `success: false` and serde's reason, so the model can correct the call.
//!
//! A closure returns anything [`IntoToolOutput`]: text, a [`ToolOutput`] with text and images,
//! JSON, or a `Result` whose error becomes a failed call. A closure that panics is a failed
//! call too; the connection carries on.

use crate::approvals::BoxFuture;
use crate::error::Error;
use codex_protocol::v2::{DynamicToolSpec, FunctionDynamicToolSpec, FunctionToolType};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// One call of a tool by the model.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    /// The thread of the turn that called.
    pub thread_id: String,
    /// The turn that called.
    pub turn_id: String,
    /// The model's id for this call.
    pub call_id: String,
    /// The tool name the model called.
    pub tool: String,
    /// The tool's namespace (`None` for the SDK's tools).
    pub namespace: Option<String>,
    /// The arguments as the model wrote them (a JSON object, normally).
    pub arguments: Value,
}

/// A piece of a tool's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolContent {
    /// Text for the model.
    Text(String),
    /// An image by URL (`https:` or a `data:` URL).
    ImageUrl(String),
}

/// What a tool call returns to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolOutput {
    /// The pieces, in order.
    pub content: Vec<ToolContent>,
    /// False tells the model the call failed (the content says why).
    pub success: bool,
}

impl ToolOutput {
    /// A successful call answering `text`.
    pub fn text(text: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: vec![ToolContent::Text(text.into())],
            success: true,
        }
    }

    /// A successful call answering one image.
    pub fn image_url(url: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: vec![ToolContent::ImageUrl(url.into())],
            success: true,
        }
    }

    /// A failed call; `message` tells the model why.
    pub fn failure(message: impl Into<String>) -> ToolOutput {
        ToolOutput {
            content: vec![ToolContent::Text(message.into())],
            success: false,
        }
    }

    /// Adds text after what is there.
    pub fn with_text(mut self, text: impl Into<String>) -> ToolOutput {
        self.content.push(ToolContent::Text(text.into()));
        self
    }

    /// Adds an image after what is there.
    pub fn with_image_url(mut self, url: impl Into<String>) -> ToolOutput {
        self.content.push(ToolContent::ImageUrl(url.into()));
        self
    }
}

/// What a tool closure may return.
pub trait IntoToolOutput {
    /// The output this value stands for.
    fn into_tool_output(self) -> ToolOutput;
}

impl IntoToolOutput for ToolOutput {
    fn into_tool_output(self) -> ToolOutput {
        self
    }
}

impl IntoToolOutput for String {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::text(self)
    }
}

impl IntoToolOutput for &str {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::text(self)
    }
}

/// JSON answers as their compact text.
impl IntoToolOutput for Value {
    fn into_tool_output(self) -> ToolOutput {
        ToolOutput::text(self.to_string())
    }
}

/// `Err(e)` is a failed call whose text is `e`.
impl<T: IntoToolOutput, E: fmt::Display> IntoToolOutput for Result<T, E> {
    fn into_tool_output(self) -> ToolOutput {
        match self {
            Ok(value) => value.into_tool_output(),
            Err(e) => ToolOutput::failure(e.to_string()),
        }
    }
}

type RunTool = dyn Fn(ToolCall) -> BoxFuture<ToolOutput> + Send + Sync;

/// A function the model can call.
#[derive(Clone)]
pub struct Tool {
    name: String,
    description: String,
    input_schema: Value,
    run: Arc<RunTool>,
}

impl fmt::Debug for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tool")
            .field("name", &self.name)
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Tool {
    /// A tool whose arguments follow `input_schema` (a JSON Schema object); `run` gets the raw
    /// call.
    ///
    /// ```
    /// use codex_sdk::{Tool, ToolCall};
    /// use serde_json::json;
    ///
    /// let clock = Tool::new(
    ///     "utc_now",
    ///     "The current UTC time.",
    ///     json!({"type": "object", "properties": {}}),
    ///     |_call: ToolCall| async { "2026-01-01T00:00:00Z" },
    /// );
    /// assert_eq!(clock.name(), "utc_now");
    /// ```
    pub fn new<F, Fut>(
        name: impl Into<String>,
        description: impl Into<String>,
        input_schema: Value,
        run: F,
    ) -> Tool
    where
        F: Fn(ToolCall) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoToolOutput,
    {
        Tool {
            name: name.into(),
            description: description.into(),
            input_schema,
            run: Arc::new(move |call| {
                let output = run(call);
                Box::pin(async move { output.await.into_tool_output() })
            }),
        }
    }

    /// A tool whose arguments are an `A`; the schema is `A`'s JSON Schema.
    ///
    /// ```
    /// use codex_sdk::Tool;
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Add {
    ///     /// The first term.
    ///     a: i64,
    ///     b: i64,
    /// }
    ///
    /// let add = Tool::typed("add", "Add two integers.", |args: Add| async move {
    ///     (args.a + args.b).to_string()
    /// });
    /// assert_eq!(add.input_schema()["required"], serde_json::json!(["a", "b"]));
    /// ```
    pub fn typed<A, F, Fut>(name: impl Into<String>, description: impl Into<String>, run: F) -> Tool
    where
        A: DeserializeOwned + JsonSchema + Send + 'static,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: IntoToolOutput,
    {
        let name = name.into();
        let input_schema = schema_of::<A>();
        let tool_name = name.clone();
        Tool {
            name,
            description: description.into(),
            input_schema,
            run: Arc::new(move |call: ToolCall| {
                let arguments = match call.arguments {
                    Value::Null => json!({}),
                    other => other,
                };
                match serde_json::from_value::<A>(arguments) {
                    Ok(args) => {
                        let output = run(args);
                        Box::pin(async move { output.await.into_tool_output() })
                    }
                    Err(e) => {
                        let message = format!("invalid arguments for tool {tool_name:?}: {e}");
                        Box::pin(async move { ToolOutput::failure(message) })
                    }
                }
            }),
        }
    }

    /// The name the model calls the tool by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the model is told the tool does.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The JSON Schema of the tool's arguments.
    pub fn input_schema(&self) -> &Value {
        &self.input_schema
    }

    /// The `dynamicTools` entry (the canonical `function` shape).
    pub(crate) fn spec(&self) -> DynamicToolSpec {
        DynamicToolSpec::Function(FunctionDynamicToolSpec {
            kind: FunctionToolType::Function,
            name: self.name.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
            defer_loading: None,
        })
    }

    pub(crate) fn call(&self, call: ToolCall) -> BoxFuture<ToolOutput> {
        (self.run)(call)
    }
}

/// A JSON Schema for `A` with subschemas inlined (models handle one self-contained object
/// best) and without the `$schema` and `title` keys the tool spec has no use for.
fn schema_of<A: JsonSchema>() -> Value {
    let generator = schemars::gen::SchemaSettings::draft07()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let root = generator.into_root_schema_for::<A>();
    let mut value = serde_json::to_value(root).unwrap_or_else(|_| json!({"type": "object"}));
    if let Some(object) = value.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    value
}

/// The tools of one thread, by name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Toolset {
    by_name: HashMap<String, Tool>,
    /// Registration order, for the specs sent to the server.
    order: Vec<String>,
}

impl Toolset {
    /// # Errors
    /// [`Error::InvalidTool`] for a name the protocol refuses or two tools with one name.
    pub fn new(tools: Vec<Tool>) -> Result<Toolset, Error> {
        let mut set = Toolset::default();
        for tool in tools {
            let valid = (1..=64).contains(&tool.name.len())
                && tool
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(Error::InvalidTool {
                    name: tool.name,
                    reason: "names are 1-64 letters, digits, '_' or '-'".into(),
                });
            }
            if set.by_name.contains_key(&tool.name) {
                return Err(Error::InvalidTool {
                    name: tool.name,
                    reason: "two tools have this name".into(),
                });
            }
            set.order.push(tool.name.clone());
            set.by_name.insert(tool.name.clone(), tool);
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn specs(&self) -> Vec<DynamicToolSpec> {
        self.order
            .iter()
            .filter_map(|name| self.by_name.get(name))
            .map(Tool::spec)
            .collect()
    }

    /// The tool the model called; the SDK's tools have no namespace.
    pub fn get(&self, namespace: Option<&str>, name: &str) -> Option<&Tool> {
        match namespace {
            None => self.by_name.get(name),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct Weather {
        /// The city to look up.
        city: String,
        #[serde(default)]
        unit: Option<Unit>,
    }

    #[derive(Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    enum Unit {
        C,
        F,
    }

    fn call(arguments: Value) -> ToolCall {
        ToolCall {
            thread_id: "t".into(),
            turn_id: "u".into(),
            call_id: "c".into(),
            tool: "weather".into(),
            namespace: None,
            arguments,
        }
    }

    fn weather() -> Tool {
        Tool::typed("weather", "Weather for a city.", |w: Weather| async move {
            let unit = match w.unit {
                Some(Unit::F) => "F",
                Some(Unit::C) | None => "C",
            };
            format!("Sunny in {} (20 {unit})", w.city)
        })
    }

    #[tokio::test]
    async fn typed_tools_decode_arguments_or_explain_why_not() {
        let tool = weather();
        let schema = tool.input_schema();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["city"]));
        assert_eq!(
            schema["properties"]["city"]["description"],
            "The city to look up."
        );
        assert!(schema.get("$schema").is_none() && schema.get("definitions").is_none());
        let ok = tool.call(call(json!({"city": "Paris", "unit": "f"}))).await;
        assert_eq!(ok, ToolOutput::text("Sunny in Paris (20 F)"));
        let bad = tool.call(call(json!({"town": "Paris"}))).await;
        assert!(!bad.success);
        assert!(
            matches!(&bad.content[0], ToolContent::Text(t) if t.contains("missing field `city`")),
            "{bad:?}"
        );
    }

    #[tokio::test]
    async fn results_errors_json_and_images_become_outputs() {
        let failing = Tool::new("f", "", json!({}), |_| async {
            Err::<String, _>("disk full")
        });
        assert_eq!(
            failing.call(call(Value::Null)).await,
            ToolOutput::failure("disk full")
        );
        let json_answer = Tool::new("j", "", json!({}), |_| async { json!({"a": 1}) });
        assert_eq!(
            json_answer.call(call(Value::Null)).await,
            ToolOutput::text(r#"{"a":1}"#)
        );
        let mixed = ToolOutput::text("see").with_image_url("data:image/png;base64,AA");
        assert_eq!(mixed.content.len(), 2);
    }

    #[test]
    fn toolsets_refuse_bad_and_duplicate_names_and_keep_order() {
        let noop = |name: &str| Tool::new(name, "", json!({}), |_| async { "" });
        assert!(matches!(
            Toolset::new(vec![noop("has space")]),
            Err(Error::InvalidTool { .. })
        ));
        assert!(matches!(
            Toolset::new(vec![noop("")]),
            Err(Error::InvalidTool { .. })
        ));
        assert!(matches!(
            Toolset::new(vec![noop("a"), noop("a")]),
            Err(Error::InvalidTool { .. })
        ));
        let set = Toolset::new(vec![noop("b"), noop("a-1"), weather()]).unwrap();
        let specs: Vec<Value> = set
            .specs()
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .collect();
        let names: Vec<Value> = specs.iter().map(|s| s["name"].clone()).collect();
        assert_eq!(names, [json!("b"), json!("a-1"), json!("weather")]);
        assert_eq!(specs[2]["type"], "function");
        assert!(set.get(None, "weather").is_some());
        assert!(set.get(Some("ns"), "weather").is_none());
    }
}
