//! The client against a scripted fake server over an in-memory pipe: the test plays the
//! server line by line, so it can send what a real server rarely does on cue (notifications
//! before the answer that names their turn, withdrawn requests, tool calls, a hang-up).

use super::harness::within;
use codex_sdk::protocol::methods::typed::ServerNotification;
use codex_sdk::{
    ApprovalDecision, ApprovalRequest, Codex, CodexConfig, Error, Notification, ThreadOptions,
    Tool, ToolCall, ToolOutput,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, ReadHalf, WriteHalf,
};
use tokio::sync::mpsc;

/// The server side of the pipe.
struct Fake {
    lines: Lines<BufReader<ReadHalf<DuplexStream>>>,
    out: WriteHalf<DuplexStream>,
}

impl Fake {
    /// The next line the client wrote; `None` once the client closed the pipe.
    async fn try_recv(&mut self) -> Option<Value> {
        let line = within("a line from the client", self.lines.next_line())
            .await
            .unwrap()?;
        Some(serde_json::from_str(&line).unwrap())
    }

    async fn recv(&mut self) -> Value {
        self.try_recv().await.expect("the client closed the pipe")
    }

    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.out.write_all(line.as_bytes()).await.unwrap();
    }

    /// The next line, which must be a request for `method`; returns (id, params).
    async fn request(&mut self, method: &str) -> (Value, Value) {
        let message = self.recv().await;
        assert_eq!(message["method"], method, "{message}");
        (message["id"].clone(), message["params"].clone())
    }

    async fn answer(&mut self, id: Value, result: Value) {
        self.send(json!({"id": id, "result": result})).await;
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"method": method, "params": params})).await;
    }

    /// Sends a request this client handles by answering -32601 and waits for that answer:
    /// once it is back, everything sent before has been dispatched.
    async fn sync(&mut self) {
        self.send(json!({"id": "sync", "method": "test/sync"}))
            .await;
        let answer = self.recv().await;
        assert_eq!(answer["id"], "sync", "{answer}");
    }
}

async fn connect(config: CodexConfig) -> (Codex, Fake) {
    let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    let (read, out) = tokio::io::split(server_end);
    let mut fake = Fake {
        lines: BufReader::new(read).lines(),
        out,
    };
    let connecting = tokio::spawn(Codex::connect(client_end, config));
    let (id, params) = fake.request("initialize").await;
    assert_eq!(params["clientInfo"]["name"], "codex_rust_sdk");
    assert_eq!(params["capabilities"]["experimentalApi"], true);
    // The official server sends no serverInfo: the SDK reads name and version from userAgent.
    fake.answer(
        id,
        json!({"userAgent": "fake_server/9.9.9 (test)", "codexHome": "/home/x/.codex",
               "platformFamily": "unix", "platformOs": "linux"}),
    )
    .await;
    assert_eq!(fake.recv().await, json!({"method": "initialized"}));
    let codex = within("connect", connecting).await.unwrap().unwrap();
    (codex, fake)
}

fn turn_json(id: &str, status: &str) -> Value {
    json!({"id": id, "items": [], "status": status, "error": null,
           "startedAt": 100, "completedAt": null, "durationMs": null})
}

fn completed_json(id: &str) -> Value {
    json!({"threadId": "t1", "turn": {"id": id, "items": [], "status": "completed", "error": null,
           "startedAt": 100, "completedAt": 101, "durationMs": 1000}})
}

fn delta(turn: &str, text: &str) -> Value {
    json!({"threadId": "t1", "turnId": turn, "itemId": "m1", "delta": text})
}

fn agent_item(turn: &str, text: &str) -> Value {
    json!({"threadId": "t1", "turnId": turn, "completedAtMs": 5,
           "item": {"type": "agentMessage", "id": "m1", "text": text, "phase": "final_answer",
                    "memoryCitation": null}})
}

/// A `thread/start` answer our protocol types accept.
fn thread_started(id: &str) -> Value {
    json!({
        "thread": {"id": id, "sessionId": id, "forkedFromId": null, "parentThreadId": null,
                   "preview": "", "ephemeral": false, "projectId": null, "modelProvider": "mock",
                   "model": "m", "reasoningEffort": null, "createdAt": 1, "updatedAt": 1,
                   "status": {"type": "idle"}, "path": null, "cwd": "/w", "cliVersion": "0",
                   "originator": null, "source": "appServer", "agentNickname": null,
                   "agentRole": null, "gitInfo": null, "name": null, "turns": []},
        "model": "m", "modelProvider": "mock", "serviceTier": null, "cwd": "/w",
        "approvalPolicy": "never", "approvalsReviewer": "user",
        "sandbox": {"type": "dangerFullAccess"}, "reasoningEffort": null
    })
}

#[tokio::test]
async fn metadata_comes_from_the_user_agent_when_server_info_is_absent() {
    let (codex, _fake) = connect(CodexConfig::default()).await;
    let metadata = codex.metadata();
    assert_eq!(metadata.server_name, "fake_server");
    assert_eq!(metadata.server_version, "9.9.9 (test)");
    assert_eq!(metadata.platform_os.as_deref(), Some("linux"));
}

#[tokio::test]
async fn notifications_sent_before_the_turn_start_answer_reach_the_turn() {
    let (codex, mut fake) = connect(CodexConfig::default()).await;
    let thread = codex.thread("t1");
    let running = tokio::spawn(async move { thread.run("hi").await });
    let (id, params) = fake.request("turn/start").await;
    assert_eq!(params["threadId"], "t1");
    assert_eq!(params["input"][0]["text"], "hi");
    // The whole turn, then the answer naming it.
    fake.notify(
        "turn/started",
        json!({"threadId": "t1", "turn": turn_json("u1", "inProgress")}),
    )
    .await;
    fake.notify("item/agentMessage/delta", delta("u1", "hel"))
        .await;
    fake.notify("item/agentMessage/delta", delta("other", "not ours"))
        .await;
    fake.notify("item/completed", agent_item("u1", "hello"))
        .await;
    fake.notify("turn/completed", completed_json("u1")).await;
    fake.answer(id, json!({"turn": turn_json("u1", "inProgress")}))
        .await;
    let result = within("the turn", running).await.unwrap().unwrap();
    assert_eq!(result.id, "u1");
    assert_eq!(result.final_response.as_deref(), Some("hello"));
    assert_eq!(result.items.len(), 1);
    assert_eq!(
        (result.started_at, result.duration_ms),
        (Some(100), Some(1000))
    );
}

#[tokio::test]
async fn server_requests_are_answered_and_unknown_ones_get_method_not_found() {
    let (_codex, mut fake) = connect(CodexConfig::default()).await;
    fake.send(json!({"id": 7, "method": "item/permissions/requestApproval", "params": {}}))
        .await;
    let answer = fake.recv().await;
    assert_eq!(answer["id"], 7);
    assert_eq!(answer["error"]["code"], -32601, "{answer}");

    fake.send(json!({"id": "s-1", "method": "item/fileChange/requestApproval",
                     "params": {"threadId": "t1", "turnId": "u1", "itemId": "i1", "startedAtMs": 1}}))
        .await;
    assert_eq!(
        fake.recv().await,
        json!({"id": "s-1", "result": {"decision": "accept"}}),
        "no handler: the default decision, the id echoed with its type"
    );

    fake.send(
        json!({"id": 8, "method": "item/commandExecution/requestApproval",
                     "params": {"threadId": "t1"}}),
    )
    .await;
    let answer = fake.recv().await;
    assert_eq!(answer["error"]["code"], -32602, "{answer}");
}

#[tokio::test]
async fn the_handler_decides_and_a_withdrawn_request_drops_its_future_unanswered() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let (dropped_tx, mut dropped) = mpsc::unbounded_channel::<()>();
    struct SignalOnDrop(mpsc::UnboundedSender<()>);
    impl Drop for SignalOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(());
        }
    }
    let config = CodexConfig::default().approval_handler(move |request: ApprovalRequest| {
        let started = started_tx.clone();
        let guard = SignalOnDrop(dropped_tx.clone());
        async move {
            let _guard = guard;
            let _ = started.send(request.item_id().to_string());
            if request.item_id() == "quick" {
                return Some(ApprovalDecision::Decline);
            }
            // Someone who never answers.
            std::future::pending::<Option<ApprovalDecision>>().await
        }
    });
    let (_codex, mut fake) = connect(config).await;
    let approval = |id: i64, item: &str| {
        json!({"id": id, "method": "item/commandExecution/requestApproval",
               "params": {"threadId": "t1", "turnId": "u1", "itemId": item, "startedAtMs": 1,
                          "command": "rm -rf /", "cwd": "/", "commandActions": []}})
    };
    fake.send(approval(1, "quick")).await;
    assert_eq!(
        fake.recv().await,
        json!({"id": 1, "result": {"decision": "decline"}})
    );
    within("the first handler to finish", dropped.recv()).await;

    fake.send(approval(2, "slow")).await;
    assert_eq!(
        within("the handler", started.recv()).await.unwrap(),
        "quick"
    );
    assert_eq!(within("the handler", started.recv()).await.unwrap(), "slow");
    fake.notify(
        "serverRequest/resolved",
        json!({"threadId": "t1", "requestId": 2}),
    )
    .await;
    within("the withdrawn handler to be dropped", dropped.recv()).await;
    fake.sync().await;
}

#[derive(Deserialize, JsonSchema)]
struct Add {
    a: i64,
    b: i64,
}

#[tokio::test]
async fn client_tools_are_advertised_called_and_answered() {
    let (codex, mut fake) = connect(CodexConfig::default()).await;
    let tools = ThreadOptions::default()
        .tool(Tool::typed(
            "add",
            "Add two integers.",
            |args: Add| async move { (args.a + args.b).to_string() },
        ))
        .tool(Tool::new(
            "snapshot",
            "A picture and its caption.",
            json!({"type": "object"}),
            |call: ToolCall| async move {
                ToolOutput::image_url("data:image/png;base64,AA")
                    .with_text(format!("call {} of turn {}", call.call_id, call.turn_id))
            },
        ))
        .tool(Tool::new("explode", "Panics.", json!({}), |_| async {
            if true {
                panic!("tool bug");
            }
            "unreachable"
        }));
    let starting = tokio::spawn({
        let codex = codex.clone();
        async move { codex.thread_start(tools).await }
    });
    let (id, params) = fake.request("thread/start").await;
    let specs = params["dynamicTools"].as_array().unwrap();
    assert_eq!(specs.len(), 3);
    assert_eq!(
        specs[0],
        json!({"type": "function", "name": "add", "description": "Add two integers.",
               "inputSchema": {"type": "object", "required": ["a", "b"], "properties": {
                   "a": {"type": "integer", "format": "int64"},
                   "b": {"type": "integer", "format": "int64"}}}})
    );
    assert_eq!(params["approvalPolicy"], "on-request");
    fake.answer(id, thread_started("t1")).await;
    let thread = within("thread/start", starting).await.unwrap().unwrap();
    assert_eq!(thread.id(), "t1");

    let call = |id: i64, thread: &str, tool: &str, arguments: Value| {
        json!({"id": id, "method": "item/tool/call",
               "params": {"threadId": thread, "turnId": "u1", "callId": format!("c{id}"),
                          "namespace": null, "tool": tool, "arguments": arguments}})
    };
    fake.send(call(1, "t1", "add", json!({"a": 2, "b": 3})))
        .await;
    assert_eq!(
        fake.recv().await,
        json!({"id": 1, "result": {"contentItems": [{"type": "inputText", "text": "5"}], "success": true}})
    );
    fake.send(call(2, "t1", "snapshot", json!({}))).await;
    assert_eq!(
        fake.recv().await,
        json!({"id": 2, "result": {"contentItems": [
            {"type": "inputImage", "imageUrl": "data:image/png;base64,AA"},
            {"type": "inputText", "text": "call c2 of turn u1"}], "success": true}})
    );
    fake.send(call(3, "t1", "add", json!({"a": 2}))).await;
    let answer = fake.recv().await;
    assert_eq!(answer["result"]["success"], false);
    let text = answer["result"]["contentItems"][0]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("missing field `b`"), "{text}");
    fake.send(call(4, "t1", "nope", json!({}))).await;
    let answer = fake.recv().await;
    assert_eq!(answer["result"]["success"], false);
    assert!(answer["result"]["contentItems"][0]["text"]
        .as_str()
        .unwrap()
        .contains("no tool named nope"));
    fake.send(call(5, "t1", "explode", json!({}))).await;
    let answer = fake.recv().await;
    assert_eq!(answer["result"]["success"], false, "{answer}");
    fake.send(call(6, "another-thread", "add", json!({"a": 1, "b": 1})))
        .await;
    let answer = fake.recv().await;
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    // The connection outlived the panic.
    fake.send(call(7, "t1", "add", json!({"a": 1, "b": 1})))
        .await;
    assert_eq!(fake.recv().await["result"]["contentItems"][0]["text"], "2");
}

#[tokio::test]
async fn a_hang_up_fails_pending_requests_and_running_turns() {
    let (codex, mut fake) = connect(CodexConfig::default()).await;
    let thread = codex.thread("t1");
    let starting = tokio::spawn(async move { thread.turn("hi").await });
    let (id, _) = fake.request("turn/start").await;
    fake.answer(id, json!({"turn": turn_json("u1", "inProgress")}))
        .await;
    let turn = within("turn/start", starting).await.unwrap().unwrap();
    fake.notify("item/agentMessage/delta", delta("u1", "partial"))
        .await;
    let listing = tokio::spawn({
        let codex = codex.clone();
        async move { codex.thread_list(Default::default()).await }
    });
    fake.request("thread/list").await;
    drop(fake);

    let mut stream = turn.stream();
    // Through the `futures_core::Stream` impl, as stream combinators would poll it.
    let polled = std::future::poll_fn(|cx| {
        futures_core::Stream::poll_next(std::pin::Pin::new(&mut stream), cx)
    });
    let first = within("the delta", polled).await.unwrap().unwrap();
    assert!(matches!(
        first,
        Notification::Known(ServerNotification::AgentMessageDelta(_))
    ));
    let end = within("the end", stream.next()).await.unwrap();
    assert!(matches!(end, Err(Error::TransportClosed(_))), "{end:?}");
    assert!(stream.next().await.is_none());
    let listed = within("thread/list", listing).await.unwrap();
    assert!(
        matches!(listed, Err(Error::TransportClosed(_))),
        "{listed:?}"
    );
}

#[tokio::test]
async fn requests_and_silent_turns_time_out() {
    let config = CodexConfig::default()
        .request_timeout(Duration::from_millis(200))
        .turn_idle_timeout(Duration::from_millis(200));
    let (codex, mut fake) = connect(config).await;
    let err = codex.models(false).await.unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { what, .. } if what.contains("model/list")),
        "{err:?}"
    );
    fake.request("model/list").await;

    let thread = codex.thread("t1");
    let starting = tokio::spawn(async move { thread.turn("hi").await });
    let (id, _) = fake.request("turn/start").await;
    fake.answer(id, json!({"turn": turn_json("u1", "inProgress")}))
        .await;
    let turn = within("turn/start", starting).await.unwrap().unwrap();
    let err = turn.run().await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn a_reader_that_falls_behind_is_cut_off_instead_of_stalling_the_connection() {
    let config = CodexConfig {
        turn_buffer: 4,
        ..CodexConfig::default()
    };
    let (codex, mut fake) = connect(config).await;
    let thread = codex.thread("t1");
    let starting = tokio::spawn(async move { thread.turn("hi").await });
    let (id, _) = fake.request("turn/start").await;
    fake.answer(id, json!({"turn": turn_json("u1", "inProgress")}))
        .await;
    let turn = within("turn/start", starting).await.unwrap().unwrap();
    for i in 0..10 {
        fake.notify("item/agentMessage/delta", delta("u1", &i.to_string()))
            .await;
    }
    fake.notify("turn/completed", completed_json("u1")).await;
    fake.sync().await;
    // Other calls still work while the turn's reader is behind.
    let listing = tokio::spawn({
        let codex = codex.clone();
        async move { codex.models(false).await }
    });
    let (id, _) = fake.request("model/list").await;
    fake.answer(id, json!({"data": [], "nextCursor": null}))
        .await;
    within("model/list", listing).await.unwrap().unwrap();

    let mut stream = turn.stream();
    for i in 0..4 {
        let Some(Ok(Notification::Known(ServerNotification::AgentMessageDelta(d)))) =
            stream.next().await
        else {
            panic!("expected delta {i}");
        };
        assert_eq!(d.delta, i.to_string());
    }
    let end = stream.next().await;
    assert!(
        matches!(end, Some(Err(Error::Lagged { capacity: 4, .. }))),
        "{end:?}"
    );
}

#[tokio::test]
async fn dropping_every_handle_closes_the_pipe() {
    let (codex, mut fake) = connect(CodexConfig::default()).await;
    let thread = codex.thread("t1");
    drop(codex);
    fake.sync().await;
    drop(thread);
    assert_eq!(fake.try_recv().await, None, "the client closed its end");
}
