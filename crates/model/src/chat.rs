//! `wire_api = "chat"`: converts a Responses request body to a Chat Completions body, and
//! decodes the Chat Completions stream into the same [`ResponseEvent`]s (text deltas, then the
//! finished message / function-call items, then `Completed`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::events::{failure, Decoded, ResponseEvent, TokenUsage};
use crate::sse::SseFrame;

fn text_of_parts(content: &Value) -> (Vec<String>, Vec<String>) {
    let mut texts = Vec::new();
    let mut images = Vec::new();
    match content {
        Value::String(s) => texts.push(s.clone()),
        Value::Array(parts) => {
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("input_text" | "output_text" | "text") => {
                        if let Some(t) = part.get("text").and_then(Value::as_str) {
                            texts.push(t.to_string());
                        }
                    }
                    Some("input_image") => {
                        if let Some(url) = part.get("image_url").and_then(Value::as_str) {
                            images.push(url.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
    (texts, images)
}

fn tool_call(call_id: &str, name: &str, arguments: String) -> Value {
    json!({"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// Appends a tool call to the trailing assistant tool-call message, or starts one, so parallel
/// calls of one response stay in one assistant message as Chat Completions expects.
fn push_tool_call(messages: &mut Vec<Value>, call: Value) {
    if let Some(Value::Array(calls)) = messages
        .last_mut()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("assistant"))
        .and_then(|m| m.get_mut("tool_calls"))
    {
        calls.push(call);
        return;
    }
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [call]}));
}

/// Converts a Responses body (`model`, `instructions`, `input`, `tools`, ...) to a Chat
/// Completions streaming body. Reasoning items and non-function tools have no Chat equivalent
/// and are dropped; freeform tool calls in history become function calls `{"input": ...}`.
/// Chat has no namespaces: the functions of a `namespace` tool become functions named
/// `<namespace>__<name>` (the flat spelling the runtime resolves), and so do namespaced calls
/// in history.
pub fn to_chat_body(body: &Value) -> Value {
    let mut messages = Vec::new();
    if let Some(instructions) = body
        .get("instructions")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        messages.push(json!({"role": "system", "content": instructions}));
    }
    for item in body
        .get("input")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let call_id = item
            .get("call_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
        let flat;
        let name = match item.get("namespace").and_then(Value::as_str) {
            Some(namespace) => {
                flat = format!("{namespace}__{name}");
                flat.as_str()
            }
            None => name,
        };
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                let role = match item.get("role").and_then(Value::as_str) {
                    Some("developer" | "system") => "system",
                    Some("assistant") => "assistant",
                    _ => "user",
                };
                let (texts, images) = text_of_parts(item.get("content").unwrap_or(&Value::Null));
                let content = if role == "user" && !images.is_empty() {
                    let mut parts: Vec<Value> = texts
                        .iter()
                        .map(|t| json!({"type": "text", "text": t}))
                        .collect();
                    parts.extend(
                        images
                            .iter()
                            .map(|u| json!({"type": "image_url", "image_url": {"url": u}})),
                    );
                    Value::Array(parts)
                } else {
                    Value::String(texts.join("\n"))
                };
                messages.push(json!({"role": role, "content": content}));
            }
            Some("function_call") => {
                let arguments = item
                    .get("arguments")
                    .and_then(Value::as_str)
                    .unwrap_or("{}")
                    .to_string();
                push_tool_call(&mut messages, tool_call(call_id, name, arguments));
            }
            Some("custom_tool_call") => {
                let input = item
                    .get("input")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                push_tool_call(
                    &mut messages,
                    tool_call(call_id, name, json!({"input": input}).to_string()),
                );
            }
            Some("function_call_output" | "custom_tool_call_output") => {
                let output = match item.get("output") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => text_of_parts(other).0.join("\n"),
                    None => String::new(),
                };
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
            }
            _ => {}
        }
    }
    let function = |t: &Value, prefix: Option<&str>| {
        let mut function = Map::new();
        for key in ["name", "description", "parameters", "strict"] {
            if let Some(v) = t.get(key) {
                function.insert(key.to_string(), v.clone());
            }
        }
        if let (Some(prefix), Some(name)) = (prefix, t.get("name").and_then(Value::as_str)) {
            function.insert("name".into(), json!(format!("{prefix}__{name}")));
        }
        json!({"type": "function", "function": function})
    };
    let mut tools: Vec<Value> = Vec::new();
    for t in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match t.get("type").and_then(Value::as_str) {
            Some("function") => tools.push(function(t, None)),
            Some("namespace") => {
                let prefix = t.get("name").and_then(Value::as_str);
                let inner = t
                    .get("tools")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                tools.extend(
                    inner
                        .filter(|f| f.get("type").and_then(Value::as_str) == Some("function"))
                        .map(|f| function(f, prefix)),
                );
            }
            _ => {}
        }
    }
    let mut out = json!({
        "model": body.get("model").cloned().unwrap_or(Value::Null),
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !tools.is_empty() {
        out["tools"] = Value::Array(tools);
        out["tool_choice"] = body
            .get("tool_choice")
            .cloned()
            .unwrap_or_else(|| json!("auto"));
        if let Some(parallel) = body.get("parallel_tool_calls") {
            out["parallel_tool_calls"] = parallel.clone();
        }
    }
    out
}

#[derive(Default, Debug)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// Accumulates a Chat Completions stream.
#[derive(Default, Debug)]
pub(crate) struct ChatDecoder {
    started: bool,
    response_id: Option<String>,
    message_started: bool,
    text: String,
    calls: BTreeMap<i64, PartialCall>,
    usage: Option<TokenUsage>,
    finished: bool,
    done: bool,
}

fn chat_usage(usage: &Value) -> TokenUsage {
    let int = |p: &str| usage.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    TokenUsage {
        input_tokens: int("/prompt_tokens"),
        cached_input_tokens: int("/prompt_tokens_details/cached_tokens"),
        output_tokens: int("/completion_tokens"),
        reasoning_output_tokens: int("/completion_tokens_details/reasoning_tokens"),
        total_tokens: int("/total_tokens"),
    }
}

impl ChatDecoder {
    fn message_id(&self) -> String {
        format!("msg_{}", self.response_id.as_deref().unwrap_or("chat"))
    }

    pub(crate) fn frame(&mut self, frame: &SseFrame) -> Vec<Decoded> {
        if frame.data.trim() == "[DONE]" {
            return self.complete();
        }
        let Ok(value) = serde_json::from_str::<Value>(&frame.data) else {
            tracing::debug!(data = %frame.data, "skipping unparsable chat SSE data");
            return Vec::new();
        };
        if let Some(error) = value.get("error") {
            let code = error
                .get("code")
                .and_then(Value::as_str)
                .map(str::to_string);
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("chat completion failed")
                .to_string();
            return vec![failure(code, message)];
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            self.response_id = value.get("id").and_then(Value::as_str).map(str::to_string);
            out.push(Decoded::Event(ResponseEvent::Created {
                response_id: self.response_id.clone(),
            }));
        }
        if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(chat_usage(usage));
        }
        let choice = value.pointer("/choices/0");
        let delta = choice.and_then(|c| c.get("delta"));
        if let Some(text) = delta
            .and_then(|d| d.get("content"))
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let item_id = self.message_id();
            if !self.message_started {
                self.message_started = true;
                out.push(Decoded::Event(ResponseEvent::OutputItemAdded(json!({
                    "type": "message", "id": item_id, "role": "assistant", "status": "in_progress", "content": []
                }))));
            }
            self.text.push_str(text);
            out.push(Decoded::Event(ResponseEvent::OutputTextDelta {
                item_id: Some(item_id),
                delta: text.to_string(),
            }));
        }
        for call in delta
            .and_then(|d| d.get("tool_calls"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = call.get("index").and_then(Value::as_i64).unwrap_or(0);
            let entry = self.calls.entry(index).or_default();
            if let Some(id) = call.get("id").and_then(Value::as_str) {
                entry.id = id.to_string();
            }
            if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                entry.name.push_str(name);
            }
            if let Some(args) = call.pointer("/function/arguments").and_then(Value::as_str) {
                entry.arguments.push_str(args);
            }
        }
        if choice
            .and_then(|c| c.get("finish_reason"))
            .is_some_and(|r| !r.is_null())
        {
            self.finished = true;
        }
        out
    }

    /// At EOF a stream that reported `finish_reason` counts as complete even without `[DONE]`.
    pub(crate) fn eof(&mut self) -> Vec<Decoded> {
        if self.finished {
            self.complete()
        } else {
            Vec::new()
        }
    }

    fn complete(&mut self) -> Vec<Decoded> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let mut out = Vec::new();
        if self.message_started {
            out.push(Decoded::Event(ResponseEvent::OutputItemDone(json!({
                "type": "message", "id": self.message_id(), "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": self.text, "annotations": []}]
            }))));
        }
        for (index, call) in std::mem::take(&mut self.calls) {
            let call_id = if call.id.is_empty() {
                format!("call_{index}")
            } else {
                call.id
            };
            out.push(Decoded::Event(ResponseEvent::OutputItemDone(json!({
                "type": "function_call", "id": format!("fc_{call_id}"), "call_id": call_id,
                "name": call.name, "arguments": call.arguments, "status": "completed"
            }))));
        }
        out.push(Decoded::Done(ResponseEvent::Completed {
            response_id: self.response_id.clone(),
            usage: self.usage,
        }));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_history_and_tools() {
        let body = json!({
            "model": "m", "instructions": "be brief",
            "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "perms"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {"type": "reasoning", "summary": []},
                {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": "{\"cmd\":\"ls\"}"},
                {"type": "function_call", "call_id": "c2", "name": "shell", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "done"}]}
            ],
            "tools": [{"type": "function", "name": "shell", "description": "run", "parameters": {"type": "object"}},
                      {"type": "custom", "name": "apply_patch"}],
            "tool_choice": "auto"
        });
        let chat = to_chat_body(&body);
        let messages = chat["messages"].as_array().unwrap();
        assert_eq!(
            messages[0],
            json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(messages[1], json!({"role": "system", "content": "perms"}));
        assert_eq!(messages[2], json!({"role": "user", "content": "hi"}));
        assert_eq!(messages[3]["tool_calls"].as_array().unwrap().len(), 2);
        assert_eq!(
            messages[4],
            json!({"role": "tool", "tool_call_id": "c1", "content": "a.txt"})
        );
        assert_eq!(messages[5], json!({"role": "assistant", "content": "done"}));
        assert_eq!(chat["tools"].as_array().unwrap().len(), 1);
        assert_eq!(chat["tools"][0]["function"]["name"], "shell");
        assert_eq!(chat["stream"], true);
    }

    #[test]
    fn namespaces_become_flat_function_names() {
        let body = json!({
            "model": "m",
            "input": [
                {"type": "function_call", "call_id": "c1", "namespace": "mcp__fs", "name": "read_file", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c1", "output": "x"}
            ],
            "tools": [{"type": "namespace", "name": "mcp__fs", "description": "Files.", "tools": [
                {"type": "function", "name": "read_file", "description": "Read.", "strict": false, "parameters": {"type": "object"}}
            ]}]
        });
        let chat = to_chat_body(&body);
        assert_eq!(
            chat["tools"],
            json!([{"type": "function", "function": {"name": "mcp__fs__read_file", "description": "Read.",
                    "parameters": {"type": "object"}, "strict": false}}])
        );
        assert_eq!(
            chat["messages"][0]["tool_calls"][0]["function"]["name"],
            "mcp__fs__read_file"
        );
    }

    fn data(value: Value) -> SseFrame {
        SseFrame {
            event: None,
            data: value.to_string(),
        }
    }

    #[test]
    fn decodes_text_and_tool_calls() {
        let mut decoder = ChatDecoder::default();
        let mut events = Vec::new();
        for frame in [
            data(
                json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}),
            ),
            data(
                json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "lo"}}]}),
            ),
            data(
                json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "shell", "arguments": "{\"a\""}}]}}]}),
            ),
            data(
                json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}, "finish_reason": "tool_calls"}]}),
            ),
            data(
                json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
            ),
            SseFrame {
                event: None,
                data: "[DONE]".into(),
            },
        ] {
            events.extend(decoder.frame(&frame));
        }
        let events: Vec<ResponseEvent> = events
            .into_iter()
            .map(|d| match d {
                Decoded::Event(e) | Decoded::Done(e) => e,
                Decoded::Failed(err, _) => panic!("{err}"),
            })
            .collect();
        assert!(matches!(events[0], ResponseEvent::Created { .. }));
        assert!(matches!(events[1], ResponseEvent::OutputItemAdded(_)));
        let text: String = events
            .iter()
            .filter_map(|e| match e {
                ResponseEvent::OutputTextDelta { delta, .. } => Some(delta.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(text, "Hello");
        let done: Vec<&Value> = events
            .iter()
            .filter_map(|e| match e {
                ResponseEvent::OutputItemDone(v) => Some(v),
                _ => None,
            })
            .collect();
        assert_eq!(done[0]["content"][0]["text"], "Hello");
        assert_eq!(done[1]["call_id"], "call_a");
        assert_eq!(done[1]["arguments"], "{\"a\":1}");
        match events.last() {
            Some(ResponseEvent::Completed { response_id, usage }) => {
                assert_eq!(response_id.as_deref(), Some("chatcmpl-1"));
                assert_eq!(usage.unwrap().total_tokens, 7);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
