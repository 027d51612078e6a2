//! Client-defined ("dynamic") tools: the tools a client passes in `thread/start.dynamicTools`
//! (experimental API), advertised to the model as given and run by the client itself.
//!
//! A call sends the client `item/tool/call {threadId, turnId, callId, namespace, tool,
//! arguments}` between the `dynamicToolCall` item's `item/started` and `item/completed`, and
//! its answer `{contentItems, success}` goes back to the model: a single `inputText` as a plain
//! string, anything else as a list of `input_text` / `input_image` parts. An answer that does
//! not parse becomes the failure "dynamic tool response was invalid", as upstream. Unlike
//! upstream, the wait is bounded (`dynamic_tool_timeout_sec`) and an interrupt ends it; either
//! way the client is told with `serverRequest/resolved` that the request is moot.
//!
//! [`validate`] holds the official rules for the list a client sends; [`tools_for`] turns a
//! valid list into [`Tool`]s (one per function, one per namespace).

use super::call::{ToolCall, ToolError, ToolOutput};
use super::context::CallScope;
use super::tool::{Family, Tool, ToolFuture, ToolNeeds};
use crate::clock::now_ms;
use codex_protocol::methods as m;
use codex_protocol::v2::{
    DynamicToolCallOutputContentItem, DynamicToolCallParams, DynamicToolCallResponse,
    DynamicToolCallStatus, DynamicToolSpec, FunctionDynamicToolSpec,
    ServerRequestResolvedNotification, ThreadItem,
};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a call waits for the client by default (`dynamic_tool_timeout_sec` overrides).
pub const DEFAULT_DYNAMIC_TOOL_TIMEOUT: Duration = Duration::from_secs(600);

/// What the model is told when the client's answer does not parse (upstream's wording).
pub const INVALID_RESPONSE: &str = "dynamic tool response was invalid";

/// The client-defined tools of a thread as the client sent them, kept so a fork can carry them
/// to the new thread. A per-thread resource ([`super::ThreadTools::resource`]).
#[derive(Default)]
pub struct ClientToolSpecs {
    specs: Mutex<Option<Vec<DynamicToolSpec>>>,
}

impl ClientToolSpecs {
    pub fn set(&self, specs: Vec<DynamicToolSpec>) {
        if let Ok(mut current) = self.specs.lock() {
            *current = Some(specs);
        }
    }

    pub fn get(&self) -> Option<Vec<DynamicToolSpec>> {
        self.specs.lock().ok().and_then(|s| s.clone())
    }
}

/// Checks a `dynamicTools` list as upstream does: one shape only (canonical or legacy), names
/// that the Responses API accepts, no duplicates, no names reserved for MCP, no empty
/// namespace. The error is the message the client sees.
///
/// # Errors
/// The first rule the list breaks.
pub fn validate(specs: &[DynamicToolSpec]) -> Result<(), String> {
    let legacy = specs
        .iter()
        .filter(|s| matches!(s, DynamicToolSpec::Legacy(_)))
        .count();
    if legacy != 0 && legacy != specs.len() {
        return Err(
            "Invalid request: dynamic tools must use either canonical or legacy format \
             consistently"
                .to_string(),
        );
    }
    let mut functions = HashSet::new();
    let mut namespaces = HashSet::new();
    for spec in specs {
        match spec {
            DynamicToolSpec::Function(f) => check_function_name(&f.name, &mut functions)?,
            DynamicToolSpec::Legacy(l) => check_function_name(&l.name, &mut functions)?,
            DynamicToolSpec::Namespace(ns) => {
                check_name("dynamic tool namespace", &ns.name)?;
                if !namespaces.insert(ns.name.as_str()) {
                    return Err(format!("duplicate dynamic tool namespace: {}", ns.name));
                }
                if ns.tools.is_empty() {
                    return Err(format!(
                        "dynamic tool namespace must contain at least one tool: {}",
                        ns.name
                    ));
                }
                let mut inner = HashSet::new();
                for tool in &ns.tools {
                    check_function_name(&tool.name, &mut inner)?;
                }
            }
        }
    }
    Ok(())
}

fn check_function_name<'a>(name: &'a str, seen: &mut HashSet<&'a str>) -> Result<(), String> {
    check_name("dynamic tool name", name)?;
    if !seen.insert(name) {
        return Err(format!("duplicate dynamic tool name: {name}"));
    }
    Ok(())
}

/// `what` is "dynamic tool name" or "dynamic tool namespace", as upstream words its errors.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(format!("{what} must not be empty"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "{what} must match ^[a-zA-Z0-9_-]+$ to match Responses API: {name}"
        ));
    }
    // `mcp__<server>` names belong to MCP servers (and flat `mcp__<server>__<tool>` calls).
    if name == "mcp" || name.starts_with("mcp__") {
        return Err(format!("{what} is reserved: {name}"));
    }
    Ok(())
}

/// The tools for a valid list, in the client's order; each call waits at most `timeout`.
pub fn tools_for(specs: &[DynamicToolSpec], timeout: Duration) -> Vec<Arc<dyn Tool>> {
    specs
        .iter()
        .map(|spec| {
            let tool: Arc<dyn Tool> = match spec {
                DynamicToolSpec::Function(f) => Arc::new(ClientTool {
                    name: f.name.clone(),
                    namespace: None,
                    spec: function_spec(&f.name, &f.description, &f.input_schema),
                    timeout,
                }),
                DynamicToolSpec::Legacy(l) => Arc::new(ClientTool {
                    name: l.name.clone(),
                    namespace: None,
                    spec: function_spec(&l.name, &l.description, &l.input_schema),
                    timeout,
                }),
                DynamicToolSpec::Namespace(ns) => Arc::new(ClientTool {
                    name: ns.name.clone(),
                    namespace: Some(ns.name.clone()),
                    spec: json!({
                        "type": "namespace",
                        "name": ns.name,
                        "description": ns.description,
                        "tools": ns.tools.iter().map(inner_spec).collect::<Vec<_>>(),
                    }),
                    timeout,
                }),
            };
            tool
        })
        .collect()
}

fn inner_spec(f: &FunctionDynamicToolSpec) -> Value {
    function_spec(&f.name, &f.description, &f.input_schema)
}

/// The Responses function tool for a client's spec, its schema as given.
fn function_spec(name: &str, description: &str, input_schema: &Value) -> Value {
    json!({
        "type": "function",
        "name": name,
        "description": description,
        "strict": false,
        "parameters": input_schema,
    })
}

/// One client-defined function, or a namespace of them.
struct ClientTool {
    /// The function's name, or the namespace's.
    name: String,
    namespace: Option<String>,
    spec: Value,
    timeout: Duration,
}

impl Tool for ClientTool {
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

impl ClientTool {
    async fn run(&self, call: &ToolCall, scope: &mut CallScope) -> Result<ToolOutput, ToolError> {
        let arguments = call.arguments()?;
        // A namespace answers calls named `<tool>` in it, and flat `<namespace>__<tool>` ones.
        let tool = match &self.namespace {
            Some(ns) if call.namespace.is_none() => call
                .name
                .strip_prefix(ns.as_str())
                .and_then(|rest| rest.strip_prefix("__"))
                .unwrap_or(&call.name)
                .to_string(),
            _ => call.name.clone(),
        };
        let ctx = scope.ctx.clone();
        let item = |status, content_items, success, duration: Option<Duration>| {
            ThreadItem::DynamicToolCall {
                id: call.call_id.clone(),
                tool: tool.clone(),
                namespace: self.namespace.clone(),
                arguments: arguments.clone(),
                status,
                content_items,
                success,
                duration_ms: duration.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            }
        };
        let started_ms = now_ms();
        ctx.item_started(
            &item(DynamicToolCallStatus::InProgress, None, None, None),
            started_ms,
        )
        .await;
        let params = DynamicToolCallParams {
            thread_id: ctx.thread_id.clone(),
            turn_id: ctx.turn_id.clone(),
            call_id: call.call_id.clone(),
            namespace: self.namespace.clone(),
            tool: tool.clone(),
            arguments: arguments.clone(),
        };
        let started = Instant::now();
        let answer = match ctx.sink.request::<m::DynamicToolCall>(&params).await {
            Err(e) => Answer::Unreachable(e.to_string()),
            Ok(handle) => {
                let id = handle.id().clone();
                let answer = tokio::select! {
                    reply = tokio::time::timeout(self.timeout, handle.raw()) => match reply {
                        Ok(Ok(value)) => Answer::Replied(value),
                        Ok(Err(e)) => Answer::Unreachable(e.to_string()),
                        Err(_) => Answer::TimedOut,
                    },
                    _ = ctx.cancel.cancelled() => Answer::Interrupted,
                };
                if matches!(answer, Answer::TimedOut | Answer::Interrupted) {
                    // The client may still be working on it: tell it the answer is not wanted.
                    ctx.sink
                        .notify::<m::ServerRequestResolved>(&ServerRequestResolvedNotification {
                            thread_id: ctx.thread_id.clone(),
                            request_id: id,
                        })
                        .await;
                }
                answer
            }
        };
        let duration = Some(started.elapsed());
        let (content_items, success, result) = match answer {
            Answer::Replied(value) => {
                match serde_json::from_value::<DynamicToolCallResponse>(value) {
                    Ok(response) => {
                        let output = model_output(&response.content_items);
                        (response.content_items, response.success, Ok(output))
                    }
                    Err(_) => failure(INVALID_RESPONSE.to_string()),
                }
            }
            Answer::TimedOut => failure(format!(
                "dynamic tool call timed out after {}s without an answer from the client",
                self.timeout.as_secs_f64()
            )),
            Answer::Unreachable(reason) => failure(format!(
                "dynamic tool call could not reach the client: {reason}"
            )),
            Answer::Interrupted => {
                scope
                    .item_completed(
                        item(DynamicToolCallStatus::Failed, None, Some(false), duration),
                        started_ms,
                    )
                    .await;
                return Err(ToolError::Interrupted);
            }
        };
        let status = if success {
            DynamicToolCallStatus::Completed
        } else {
            DynamicToolCallStatus::Failed
        };
        scope
            .item_completed(
                item(status, Some(content_items), Some(success), duration),
                started_ms,
            )
            .await;
        result
    }
}

enum Answer {
    Replied(Value),
    TimedOut,
    Interrupted,
    Unreachable(String),
}

/// A failed call whose only content is `message`, told to the model as is.
fn failure(
    message: String,
) -> (
    Vec<DynamicToolCallOutputContentItem>,
    bool,
    Result<ToolOutput, ToolError>,
) {
    (
        vec![DynamicToolCallOutputContentItem::InputText {
            text: message.clone(),
        }],
        false,
        Ok(ToolOutput::Text(message)),
    )
}

/// The model's view of the client's answer: one text is a plain string; anything else a list
/// of content parts (images in full detail).
pub fn model_output(items: &[DynamicToolCallOutputContentItem]) -> ToolOutput {
    if let [DynamicToolCallOutputContentItem::InputText { text }] = items {
        return ToolOutput::Text(text.clone());
    }
    if items.is_empty() {
        return ToolOutput::Text(String::new());
    }
    ToolOutput::Content(
        items
            .iter()
            .map(|item| match item {
                DynamicToolCallOutputContentItem::InputText { text } => {
                    json!({"type": "input_text", "text": text})
                }
                DynamicToolCallOutputContentItem::InputImage { image_url } => {
                    json!({"type": "input_image", "image_url": image_url, "detail": "high"})
                }
                // Responses tool outputs take no audio; say so rather than drop it silently.
                DynamicToolCallOutputContentItem::InputAudio { .. } => {
                    json!({"type": "input_text", "text": "audio content omitted: tool outputs cannot carry audio"})
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs(v: Value) -> Vec<DynamicToolSpec> {
        serde_json::from_value(v).unwrap()
    }

    fn f(name: &str) -> Value {
        json!({"type": "function", "name": name, "description": "D.", "inputSchema": {"type": "object"}})
    }

    #[test]
    fn validation_follows_the_official_rules() {
        let err = |v: Value| validate(&specs(v)).unwrap_err();
        assert_eq!(
            err(json!([f("a"), {"name": "old", "description": "L", "inputSchema": {}}])),
            "Invalid request: dynamic tools must use either canonical or legacy format consistently"
        );
        assert_eq!(
            err(json!([f("a"), f("a")])),
            "duplicate dynamic tool name: a"
        );
        assert_eq!(
            err(json!([f("bad name!")])),
            "dynamic tool name must match ^[a-zA-Z0-9_-]+$ to match Responses API: bad name!"
        );
        assert_eq!(err(json!([f("")])), "dynamic tool name must not be empty");
        assert_eq!(err(json!([f("mcp")])), "dynamic tool name is reserved: mcp");
        assert_eq!(
            err(json!([f("mcp__x")])),
            "dynamic tool name is reserved: mcp__x"
        );
        assert_eq!(
            err(json!([{"type": "namespace", "name": "ns", "description": "x", "tools": []}])),
            "dynamic tool namespace must contain at least one tool: ns"
        );
        assert_eq!(
            err(
                json!([{"type": "namespace", "name": "mcp__q", "description": "x", "tools": [f("a")]}])
            ),
            "dynamic tool namespace is reserved: mcp__q"
        );
        assert_eq!(
            err(
                json!([{"type": "namespace", "name": "ns", "description": "x", "tools": [f("a b")]}])
            ),
            "dynamic tool name must match ^[a-zA-Z0-9_-]+$ to match Responses API: a b"
        );
        // A namespace and a function may share a name; legacy lists are fine on their own.
        validate(&specs(json!([
            {"type": "namespace", "name": "ns", "description": "x", "tools": [f("a")]},
            f("ns"), f("a")
        ])))
        .unwrap();
        validate(&specs(
            json!([{"name": "old", "description": "L", "inputSchema": {}}]),
        ))
        .unwrap();
    }

    #[test]
    fn specs_are_advertised_as_given() {
        let tools = tools_for(
            &specs(json!([
                {"type": "function", "name": "get_weather", "description": "Weather.",
                 "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}}},
                {"type": "namespace", "name": "math", "description": "Math.", "tools": [
                    {"type": "function", "name": "mul", "description": "Mul.", "inputSchema": {"type": "object"}}]},
                {"name": "old", "description": "Legacy.", "inputSchema": {"type": "object"}}
            ])),
            DEFAULT_DYNAMIC_TOOL_TIMEOUT,
        );
        let advertised: Vec<Value> = tools
            .iter()
            .map(|t| t.spec(Family::Codex).unwrap())
            .collect();
        assert_eq!(
            advertised,
            vec![
                json!({"type": "function", "name": "get_weather", "description": "Weather.", "strict": false,
                       "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}),
                json!({"type": "namespace", "name": "math", "description": "Math.", "tools": [
                    {"type": "function", "name": "mul", "description": "Mul.", "strict": false,
                     "parameters": {"type": "object"}}]}),
                json!({"type": "function", "name": "old", "description": "Legacy.", "strict": false,
                       "parameters": {"type": "object"}}),
            ]
        );
        let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["get_weather", "math", "old"]);
    }

    #[test]
    fn answers_become_model_output() {
        use DynamicToolCallOutputContentItem::*;
        assert_eq!(
            model_output(&[InputText { text: "6".into() }]),
            ToolOutput::Text("6".into())
        );
        assert_eq!(
            model_output(&[
                InputText { text: "a".into() },
                InputImage {
                    image_url: "data:image/png;base64,AA".into()
                }
            ]),
            ToolOutput::Content(vec![
                json!({"type": "input_text", "text": "a"}),
                json!({"type": "input_image", "image_url": "data:image/png;base64,AA", "detail": "high"}),
            ])
        );
        assert_eq!(model_output(&[]), ToolOutput::Text(String::new()));
    }
}
