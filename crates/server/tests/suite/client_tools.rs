//! Client-defined tools (`thread/start.dynamicTools`, experimental): the capability gate, the
//! validation, the `item/tool/call` round trip and what reaches the model, bad answers, a
//! client that never answers, an interrupt while waiting, and the tools surviving a restart,
//! `thread/resume` and `thread/fork`.

use super::harness::{text_input, Env, Server};
use codex_mock_model::{
    assistant_message, ev_completed, ev_created, ev_function_call_item, Reply, Usage,
};
use codex_protocol::methods::{
    Initialize, ItemCompleted, ItemStarted, Method, Notification, ServerRequestResolved,
    ThreadFork, ThreadResume, TurnInterrupt, TurnStart,
};
use serde_json::{json, Value};

/// A response whose only output is a function call, in `namespace` when given.
pub fn call_reply(
    response_id: &str,
    call_id: &str,
    namespace: Option<&str>,
    name: &str,
    arguments: Value,
) -> Reply {
    let mut call = ev_function_call_item(call_id, name, &arguments);
    if let Some(namespace) = namespace {
        call.data["item"]["namespace"] = json!(namespace);
    }
    Reply::Sse(vec![
        ev_created(response_id),
        call,
        ev_completed(response_id, Usage::default()),
    ])
}

fn weather() -> Value {
    json!({"type": "function", "name": "get_weather", "description": "Weather in a city.",
           "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
}

fn math() -> Value {
    json!({"type": "namespace", "name": "math", "description": "Arithmetic.", "tools": [
        {"type": "function", "name": "mul", "description": "Multiply.",
         "inputSchema": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}]})
}

/// The next server request `method` (consumed).
pub async fn server_request(server: &mut Server, method: &str) -> Value {
    let wanted = method.to_string();
    server
        .wait_for(method, move |m| {
            m["method"] == wanted.as_str() && m.get("id").is_some()
        })
        .await
}

/// Answers a server request.
pub async fn answer(server: &mut Server, request: &Value, result: Value) {
    server
        .send(&json!({"id": request["id"], "result": result}))
        .await;
}

/// The `function_call_output` for `call_id` in a model request body.
pub fn tool_output(body: &Value, call_id: &str) -> Value {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["type"] == "function_call_output" && i["call_id"] == call_id)
        .unwrap_or_else(|| panic!("no output for {call_id} in {body}"))["output"]
        .clone()
}

/// Position in the log of the first message matching `pred`.
pub fn position(log: &[Value], what: &str, pred: impl Fn(&Value) -> bool) -> usize {
    log.iter()
        .position(pred)
        .unwrap_or_else(|| panic!("{what} not in the log"))
}

fn text(t: &str) -> Value {
    json!({"type": "inputText", "text": t})
}

async fn start_with_tools(server: &mut Server, params: Value) -> String {
    server.start_thread_with(params).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn dynamic_tools_need_the_experimental_api_capability() {
    let env = Env::new().await;
    let mut server = Server::spawn(env.home.path(), env.work.path(), &env.mock_overrides());
    server
        .call::<Initialize>(json!({"clientInfo": {"name": "plain", "version": "1"}}))
        .await;
    server.send(&json!({"method": "initialized"})).await;
    for tools in [json!([weather()]), json!([])] {
        let err = server
            .call_err("thread/start", json!({"dynamicTools": tools}))
            .await;
        assert_eq!(err["code"], -32600, "{err}");
        assert_eq!(
            err["message"],
            "thread/start.dynamicTools requires experimentalApi capability"
        );
    }
    // The same client starts threads without them.
    server.start_thread().await;
}

#[tokio::test]
async fn lists_that_break_the_rules_are_refused() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let legacy =
        json!({"name": "old", "description": "Legacy.", "inputSchema": {"type": "object"}});
    let cases = [
        (
            json!([weather(), legacy]),
            "Invalid request: dynamic tools must use either canonical or legacy format consistently",
        ),
        (
            json!([weather(), weather()]),
            "duplicate dynamic tool name: get_weather",
        ),
        (
            json!([{"type": "function", "name": "mcp__x", "description": "", "inputSchema": {}}]),
            "dynamic tool name is reserved: mcp__x",
        ),
    ];
    for (tools, message) in cases {
        let err = server
            .call_err("thread/start", json!({"dynamicTools": tools}))
            .await;
        assert_eq!(err["code"], -32600, "{err}");
        assert_eq!(err["message"], message);
    }
    let err = server
        .call_err(
            "thread/start",
            json!({"dynamicTools": [{"type": "shell", "name": "x"}]}),
        )
        .await;
    assert_eq!(err["code"], -32602, "{err}");
}

#[tokio::test]
async fn calls_reach_the_client_and_its_answers_reach_the_model() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "call_1",
        None,
        "get_weather",
        json!({"city": "Paris"}),
    ));
    env.mock.enqueue(call_reply(
        "r2",
        "call_2",
        Some("math"),
        "mul",
        json!({"a": 2, "b": 3}),
    ));
    env.mock.enqueue(assistant_message("r3", "Done."));
    let mut server = env.server(&[]).await;
    let thread = start_with_tools(&mut server, json!({"dynamicTools": [weather(), math()]})).await;
    let turn = server.start_turn(&thread, "Weather and math").await;

    let first = server_request(&mut server, "item/tool/call").await;
    assert_eq!(
        first["params"],
        json!({"threadId": thread, "turnId": turn, "callId": "call_1", "namespace": null,
               "tool": "get_weather", "arguments": {"city": "Paris"}})
    );
    answer(
        &mut server,
        &first,
        json!({"contentItems": [text("Sunny")], "success": true}),
    )
    .await;
    let second = server_request(&mut server, "item/tool/call").await;
    assert_eq!(second["params"]["namespace"], "math");
    assert_eq!(second["params"]["tool"], "mul");
    answer(
        &mut server,
        &second,
        json!({"contentItems": [text("6"), {"type": "inputImage", "imageUrl": "data:image/png;base64,AAAA"}],
               "success": true}),
    )
    .await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    // The official order: item/started, the request, item/completed.
    let log = server.log.clone();
    let is_item = |method: &'static str| {
        move |m: &Value| m["method"] == method && m["params"]["item"]["id"] == "call_1"
    };
    let started = position(&log, "item/started", is_item(ItemStarted::NAME));
    let asked = position(&log, "request", |m| {
        m["id"] == first["id"] && m.get("method").is_some()
    });
    let completed = position(&log, "item/completed", is_item(ItemCompleted::NAME));
    assert!(
        started < asked && asked < completed,
        "{started} {asked} {completed}"
    );
    assert_eq!(
        log[started]["params"]["item"],
        json!({"type": "dynamicToolCall", "id": "call_1", "tool": "get_weather", "namespace": null,
               "arguments": {"city": "Paris"}, "status": "inProgress", "contentItems": null,
               "success": null, "durationMs": null})
    );
    let item = &log[completed]["params"]["item"];
    assert_eq!(item["status"], "completed");
    assert_eq!(item["contentItems"], json!([text("Sunny")]));
    assert_eq!(item["success"], true);
    assert!(item["durationMs"].is_i64(), "{item}");
    let items = done["turn"]["items"].as_array().unwrap();
    let kinds: Vec<&str> = items
        .iter()
        .filter(|i| i["type"] == "dynamicToolCall")
        .map(|i| i["namespace"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(kinds, ["-", "math"]);

    let requests = env.model_requests();
    assert_eq!(requests.len(), 3);
    let tools = requests[0]["tools"].as_array().unwrap();
    let advertised = |name: &str| tools.iter().find(|t| t["name"] == name).cloned();
    assert_eq!(
        advertised("get_weather").unwrap(),
        json!({"type": "function", "name": "get_weather", "description": "Weather in a city.", "strict": false,
               "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}})
    );
    assert_eq!(advertised("math").unwrap()["type"], "namespace");
    assert_eq!(advertised("math").unwrap()["tools"][0]["name"], "mul");
    assert_eq!(tool_output(&requests[1], "call_1"), json!("Sunny"));
    assert_eq!(
        tool_output(&requests[2], "call_2"),
        json!([{"type": "input_text", "text": "6"},
               {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "high"}])
    );
}

#[tokio::test]
async fn a_failed_or_unparsable_answer_fails_the_call() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "bad",
        None,
        "get_weather",
        json!({"city": "Oslo"}),
    ));
    env.mock.enqueue(call_reply(
        "r2",
        "no",
        None,
        "get_weather",
        json!({"city": "Rome"}),
    ));
    env.mock.enqueue(assistant_message("r3", "ok"));
    let mut server = env.server(&[]).await;
    let thread = start_with_tools(&mut server, json!({"dynamicTools": [weather()]})).await;
    let turn = server.start_turn(&thread, "go").await;
    let request = server_request(&mut server, "item/tool/call").await;
    answer(&mut server, &request, json!({"bogus": 1})).await;
    let request = server_request(&mut server, "item/tool/call").await;
    answer(
        &mut server,
        &request,
        json!({"contentItems": [text("a"), text("b")], "success": false}),
    )
    .await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed");
    let items: Vec<&Value> = done["turn"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "dynamicToolCall")
        .collect();
    assert_eq!(items[0]["status"], "failed");
    assert_eq!(items[0]["success"], false);
    assert_eq!(
        items[0]["contentItems"],
        json!([text("dynamic tool response was invalid")])
    );
    assert_eq!(items[1]["status"], "failed");
    let requests = env.model_requests();
    assert_eq!(
        tool_output(&requests[1], "bad"),
        json!("dynamic tool response was invalid")
    );
    assert_eq!(
        tool_output(&requests[2], "no"),
        json!([{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}])
    );
}

#[tokio::test]
async fn a_client_that_never_answers_is_bounded_by_the_timeout() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "slow",
        None,
        "get_weather",
        json!({"city": "Nice"}),
    ));
    env.mock.enqueue(assistant_message("r2", "gave up"));
    let mut server = env.server(&[]).await;
    let thread = start_with_tools(
        &mut server,
        json!({"dynamicTools": [weather()], "config": {"dynamic_tool_timeout_sec": 0.3}}),
    )
    .await;
    let turn = server.start_turn(&thread, "go").await;
    let request = server_request(&mut server, "item/tool/call").await;
    let resolved = server.notification::<ServerRequestResolved>().await;
    assert_eq!(
        resolved,
        json!({"threadId": thread, "requestId": request["id"]})
    );
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed");
    let output = tool_output(&env.model_requests()[1], "slow");
    assert!(
        output.as_str().unwrap().contains("timed out after 0.3s"),
        "{output}"
    );
}

#[tokio::test]
async fn an_interrupt_ends_the_wait_for_the_client() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "stuck",
        None,
        "get_weather",
        json!({"city": "Lima"}),
    ));
    let mut server = env.server(&[]).await;
    let thread = start_with_tools(&mut server, json!({"dynamicTools": [weather()]})).await;
    let turn = server.start_turn(&thread, "go").await;
    let request = server_request(&mut server, "item/tool/call").await;
    server
        .call::<TurnInterrupt>(json!({"threadId": thread, "turnId": turn}))
        .await;
    let resolved = server.notification::<ServerRequestResolved>().await;
    assert_eq!(resolved["requestId"], request["id"]);
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "interrupted", "{done}");
    let item = server
        .wait_for("the call's item/completed", |m| {
            m["method"] == ItemCompleted::NAME && m["params"]["item"]["id"] == "stuck"
        })
        .await;
    assert_eq!(item["params"]["item"]["status"], "failed");
    // One model request: the interrupted turn did not go back to the model.
    assert_eq!(env.model_requests().len(), 1);
}

#[tokio::test]
async fn tools_survive_a_restart_resume_and_fork() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = start_with_tools(&mut server, json!({"dynamicTools": [weather(), math()]})).await;
    server.close_and_wait().await;

    let mut server = env.server(&[]).await;
    server
        .call::<ThreadResume>(json!({"threadId": thread}))
        .await;
    env.mock.enqueue(call_reply(
        "r1",
        "again",
        Some("math"),
        "mul",
        json!({"a": 1, "b": 1}),
    ));
    env.mock.enqueue(assistant_message("r2", "one"));
    let turn = server.start_turn(&thread, "go").await;
    let request = server_request(&mut server, "item/tool/call").await;
    assert_eq!(request["params"]["tool"], "mul");
    answer(
        &mut server,
        &request,
        json!({"contentItems": [text("1")], "success": true}),
    )
    .await;
    server.turn_completed(&turn).await;

    let fork = server.call::<ThreadFork>(json!({"threadId": thread})).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.mock.enqueue(assistant_message("r3", "forked"));
    let id = server
        .request(
            TurnStart::NAME,
            json!({"threadId": fork, "input": text_input("hi")}),
        )
        .await;
    let turn = server.response(&id).await["result"]["turn"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server.turn_completed(&turn).await;
    let requests = env.model_requests();
    for body in [&requests[0], &requests[2]] {
        let names: Vec<&str> = body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert!(
            names.contains(&"get_weather") && names.contains(&"math"),
            "{names:?}"
        );
    }
}
