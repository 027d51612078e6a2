//! Many clients on one server, over real unix and WebSocket connections: shared threads,
//! subscriptions and `thread/unsubscribe`, approvals handed on when their client leaves (and
//! never answered twice), a slow reader dropped without stalling the others, re-attaching to
//! a running turn, and the WebSocket token.

use super::harness::{text_input, Env, WAIT};
use super::sockets::{is_notification, Client, SocketServer};
use codex_jsonrpc::Incoming;
use codex_mock_model::{
    assistant_message, ev_completed, ev_content_part_added, ev_created, ev_message_item_added,
    ev_message_item_done, ev_output_text_delta, function_call, Reply, Usage,
};
use codex_protocol::methods as m;
use serde_json::{json, Value};
use std::io::{BufRead, Write};

fn untrusted() -> Value {
    json!({"approvalPolicy": "untrusted", "approvalsReviewer": "user", "sandbox": "danger-full-access"})
}

async fn start_thread(client: &mut Client, params: Value) -> String {
    let started = client.call::<m::ThreadStart>(params).await;
    let id = started["thread"]["id"].as_str().unwrap().to_string();
    client.notification("thread/started", &id).await;
    id
}

async fn start_turn(client: &mut Client, thread: &str, text: &str) -> String {
    let r = client
        .call::<m::TurnStart>(json!({"threadId": thread, "input": text_input(text)}))
        .await;
    r["turn"]["id"].as_str().unwrap().to_string()
}

/// `echo <line> >> <file>` as the model's shell call.
fn append_call(call_id: &str, file: &std::path::Path) -> Reply {
    function_call(
        "r1",
        call_id,
        "exec_command",
        &json!({"cmd": format!("echo ran >> {}", file.display()), "login": false, "tty": false}),
    )
}

fn lines_in(file: &std::path::Path) -> usize {
    std::fs::read_to_string(file)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_over_unix_and_ws_share_a_thread() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "shared answer"));
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let mut b = server.ws_client("client_b").await;

    let thread = start_thread(&mut a, json!({})).await;
    let resumed = b.call::<m::ThreadResume>(json!({"threadId": thread})).await;
    assert_eq!(resumed["thread"]["id"], thread.as_str());

    let turn = start_turn(&mut a, &thread, "hello").await;
    for client in [&mut a, &mut b] {
        let done = client.notification("turn/completed", &thread).await;
        assert_eq!(done["turn"]["id"], turn.as_str());
        assert_eq!(done["turn"]["status"], "completed");
        let items = done["turn"]["items"].as_array().unwrap();
        assert_eq!(items.last().unwrap()["text"], "shared answer");
    }
    // Each saw the whole stream, in the same order.
    let seen_a = a.methods_for(&thread);
    let seen_b = b.methods_for(&thread);
    let from_turn = |seen: &[String]| -> Vec<String> {
        seen.iter()
            .skip_while(|m| *m != "turn/started")
            .cloned()
            .collect()
    };
    assert_eq!(from_turn(&seen_a), from_turn(&seen_b));
    assert!(seen_b.contains(&"item/agentMessage/delta".to_string()));

    // A third client that never subscribed gets the thread's status, nothing else.
    let mut c = server.unix_client("client_c").await;
    env.mock.enqueue(assistant_message("r2", "again"));
    start_turn(&mut b, &thread, "again").await;
    a.notification("turn/completed", &thread).await;
    b.notification("turn/completed", &thread).await;
    let idle = c
        .next("thread/status/changed idle", |m| {
            is_notification(m, "thread/status/changed")
                && matches!(m, Incoming::Notification { params: Some(p), .. } if p["status"]["type"] == "idle")
        })
        .await;
    assert!(is_notification(&idle, "thread/status/changed"));
    let methods = c.methods_for(&thread);
    assert!(
        methods.iter().all(|m| m == "thread/status/changed"),
        "{methods:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_token_is_refused_before_any_json_rpc() {
    let env = Env::new().await;
    let server = SocketServer::start(&env, &[]).await;
    for token in [None, Some("not-the-token"), Some("")] {
        let err = match Client::ws(server.ws, token).await {
            Ok(_) => panic!("connected with token {token:?}"),
            Err(e) => e,
        };
        match err {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 401, "{token:?}");
            }
            other => panic!("expected an HTTP refusal, got {other}"),
        }
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&server.unix).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "the unix socket is private");
    // The right token works.
    let mut ok = server.ws_client("client").await;
    ok.call::<m::ThreadLoadedList>(json!({})).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_goes_to_another_subscriber_when_its_client_disconnects() {
    let env = Env::new().await;
    let file = env.work.path().join("ran.txt");
    env.mock.enqueue(append_call("call_1", &file));
    env.mock.enqueue(assistant_message("r2", "done"));
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let mut b = server.ws_client("client_b").await;
    let thread = start_thread(&mut a, untrusted()).await;
    b.call::<m::ThreadResume>(json!({"threadId": thread})).await;

    start_turn(&mut a, &thread, "append").await;
    let (id, method, params) = a.server_request().await;
    assert_eq!(method, "item/commandExecution/requestApproval");
    assert_eq!(params["threadId"], thread.as_str());
    // Only the client that started the turn is asked.
    b.drain();
    assert!(!b.log.iter().any(|m| matches!(m, Incoming::Request { .. })));

    a.disconnect().await;
    let (handed_id, handed_method, handed_params) = b.server_request().await;
    assert_eq!(handed_id, id, "the request keeps its id");
    assert_eq!(handed_method, method);
    assert_eq!(handed_params, params);
    b.answer(handed_id.clone(), json!({"decision": "accept"}))
        .await;
    let resolved = b.notification("serverRequest/resolved", &thread).await;
    assert_eq!(resolved["requestId"], json!(handed_id));
    let done = b.notification("turn/completed", &thread).await;
    assert_eq!(done["turn"]["status"], "completed");
    assert_eq!(lines_in(&file), 1, "the command ran once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_approval_is_not_asked_again_when_its_client_leaves() {
    let env = Env::new().await;
    let file = env.work.path().join("ran.txt");
    env.mock.enqueue(append_call("call_1", &file));
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r2")],
        gate: env.mock.gate(),
        after: codex_mock_model::message_events("r2", &["done"])[1..].to_vec(),
    });
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let mut b = server.ws_client("client_b").await;
    let thread = start_thread(&mut a, untrusted()).await;
    b.call::<m::ThreadResume>(json!({"threadId": thread})).await;

    start_turn(&mut a, &thread, "append").await;
    let (id, _, _) = a.server_request().await;
    a.answer(id, json!({"decision": "accept"})).await;
    a.notification("serverRequest/resolved", &thread).await;
    // The command ran and the turn waits on the model: A leaves now.
    env.mock.wait_for_gates_reached(1, WAIT).await.unwrap();
    a.disconnect().await;
    env.mock.release();
    let done = b.notification("turn/completed", &thread).await;
    assert_eq!(done["turn"]["status"], "completed");
    b.drain();
    assert!(
        !b.log.iter().any(|m| matches!(m, Incoming::Request { .. })),
        "an answered request was sent again"
    );
    assert_eq!(lines_in(&file), 1, "the command ran once");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_nobody_is_left_to_answer_is_declined_and_resolved() {
    let env = Env::new().await;
    let file = env.work.path().join("ran.txt");
    env.mock.enqueue(append_call("call_1", &file));
    env.mock.enqueue(assistant_message("r2", "not run"));
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let thread = start_thread(&mut a, untrusted()).await;
    start_turn(&mut a, &thread, "append").await;
    a.server_request().await;
    a.disconnect().await;
    // The turn goes on without the command; a client that comes back sees how it ended.
    env.wait_model_requests(2).await;
    let mut back = server.ws_client("client_back").await;
    let read = back
        .call::<m::ThreadResume>(json!({"threadId": thread}))
        .await;
    let turns = read["thread"]["turns"].as_array().unwrap();
    let command = turns.last().unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "commandExecution")
        .cloned()
        .unwrap_or_default();
    assert_eq!(command["status"], "declined", "{read}");
    assert_eq!(lines_in(&file), 0, "a declined command does not run");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_reading_is_dropped_and_does_not_stall_the_others() {
    let env = Env::new().await;
    // Far more than the slow client's queue and socket buffers hold.
    let deltas: Vec<String> = (0..16000).map(|i| format!("delta {i:05}; ")).collect();
    let refs: Vec<&str> = deltas.iter().map(String::as_str).collect();
    env.mock
        .enqueue(codex_mock_model::streamed_message("r1", &refs));
    let server = SocketServer::start(&env, &["app_server.max_queued_messages=4096"]).await;
    let mut fast = server.ws_client("fast").await;
    let thread = start_thread(&mut fast, json!({})).await;

    // The slow client: subscribes, then never reads again.
    let slow = std::os::unix::net::UnixStream::connect(&server.unix).unwrap();
    let mut writer = slow.try_clone().unwrap();
    let mut reader = std::io::BufReader::new(slow);
    for line in [
        json!({"id": 1, "method": "initialize", "params": {"clientInfo": {"name": "slow", "version": "1"}}}),
        json!({"method": "initialized"}),
        json!({"id": 2, "method": "thread/resume", "params": {"threadId": thread}}),
    ] {
        writeln!(writer, "{line}").unwrap();
    }
    let mut answered = 0;
    while answered < 2 {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.contains("\"result\"") {
            answered += 1;
        }
    }

    start_turn(&mut fast, &thread, "stream a lot").await;
    let done = fast.notification("turn/completed", &thread).await;
    assert_eq!(done["turn"]["status"], "completed");
    assert_eq!(
        fast.methods_for(&thread)
            .iter()
            .filter(|m| *m == "item/agentMessage/delta")
            .count(),
        16000,
        "the fast client got every delta"
    );

    // The slow client, reading again, finds the reason it was dropped, then the end.
    let slow_reader = tokio::task::spawn_blocking(move || {
        let mut last = String::new();
        for line in reader.lines() {
            match line {
                Ok(line) => last = line,
                Err(_) => break,
            }
        }
        last
    });
    let last = tokio::time::timeout(WAIT, slow_reader)
        .await
        .expect("the slow client was not disconnected")
        .unwrap();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["error"]["code"], -32001, "{last}");
    assert_eq!(last["error"]["data"]["reason"], "slow_client", "{last}");
    // The server still serves.
    fast.call::<m::ThreadLoadedList>(json!({})).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_answers_and_the_last_one_out_closes_the_thread() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    env.mock.enqueue(assistant_message("r2", "two"));
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let mut b = server.ws_client("client_b").await;
    let thread = start_thread(&mut a, json!({})).await;
    b.call::<m::ThreadResume>(json!({"threadId": thread})).await;

    let unsubscribe = |id: &str| json!({"threadId": id});
    assert_eq!(
        a.call::<m::ThreadUnsubscribe>(unsubscribe(&thread)).await,
        json!({"status": "unsubscribed"})
    );
    assert_eq!(
        a.call::<m::ThreadUnsubscribe>(unsubscribe(&thread)).await,
        json!({"status": "notSubscribed"})
    );
    assert_eq!(
        a.call::<m::ThreadUnsubscribe>(unsubscribe("00000000-0000-0000-0000-000000000000"))
            .await,
        json!({"status": "notLoaded"})
    );

    // A runs a turn there: it only gets the thread's status (turn/start does not subscribe a
    // client that left); B, subscribed, gets everything.
    let before = a.methods_for(&thread).len();
    start_turn(&mut a, &thread, "one").await;
    b.notification("turn/completed", &thread).await;
    a.next("idle status", |m| {
        matches!(m, Incoming::Notification { method, params: Some(p) }
            if method == "thread/status/changed" && p["status"]["type"] == "idle")
    })
    .await;
    let after: Vec<String> = a.methods_for(&thread)[before..].to_vec();
    assert!(
        after.iter().all(|m| m == "thread/status/changed"),
        "{after:?}"
    );

    // The last subscriber leaves: the thread unloads, everyone hears so.
    assert_eq!(
        b.call::<m::ThreadUnsubscribe>(unsubscribe(&thread)).await,
        json!({"status": "unsubscribed"})
    );
    for client in [&mut a, &mut b] {
        client
            .next("notLoaded status", |m| {
                matches!(m, Incoming::Notification { method, params: Some(p) }
                    if method == "thread/status/changed" && p["status"]["type"] == "notLoaded")
            })
            .await;
        client.notification("thread/closed", &thread).await;
    }
    let loaded = a.call::<m::ThreadLoadedList>(json!({})).await;
    assert_eq!(loaded["data"], json!([]));
    assert_eq!(
        b.call::<m::ThreadUnsubscribe>(unsubscribe(&thread)).await,
        json!({"status": "notLoaded"})
    );

    // Resuming subscribes again.
    a.call::<m::ThreadResume>(json!({"threadId": thread})).await;
    start_turn(&mut a, &thread, "two").await;
    let done = a.notification("turn/completed", &thread).await;
    assert_eq!(done["turn"]["status"], "completed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_turn_reattaches_with_the_items_so_far() {
    let env = Env::new().await;
    let file = env.work.path().join("ran.txt");
    env.mock.enqueue(append_call("call_1", &file));
    let rest = vec![
        ev_output_text_delta("msg_r2", "fin"),
        ev_output_text_delta("msg_r2", "ished"),
        ev_message_item_done("msg_r2", "finished"),
        ev_completed("r2", Usage::default()),
    ];
    env.mock.enqueue(Reply::Gated {
        before: vec![
            ev_created("r2"),
            ev_message_item_added("msg_r2"),
            ev_content_part_added("msg_r2"),
        ],
        gate: env.mock.gate(),
        after: rest,
    });
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let thread = start_thread(
        &mut a,
        json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
    )
    .await;
    let turn = start_turn(&mut a, &thread, "run it").await;
    a.next("the command's item/completed", |m| {
        matches!(m, Incoming::Notification { method, params: Some(p) }
            if method == "item/completed" && p["item"]["type"] == "commandExecution")
    })
    .await;
    env.mock.wait_for_gates_reached(1, WAIT).await.unwrap();
    a.disconnect().await;

    let mut back = server.ws_client("client_a_again").await;
    let resumed = back
        .call::<m::ThreadResume>(json!({"threadId": thread}))
        .await;
    let turns = resumed["thread"]["turns"].as_array().unwrap();
    let running = turns.last().unwrap();
    assert_eq!(running["id"], turn.as_str());
    assert_eq!(running["status"], "inProgress");
    let types: Vec<&str> = running["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["userMessage", "commandExecution"], "{running}");

    env.mock.release();
    let done = back.notification("turn/completed", &thread).await;
    assert_eq!(done["turn"]["status"], "completed");
    // After the answer: the message in progress, its deltas and end; nothing twice.
    let methods = back.methods_for(&thread);
    assert_eq!(
        methods,
        [
            "item/started",
            "item/agentMessage/delta",
            "item/agentMessage/delta",
            "item/completed",
            "thread/tokenUsage/updated",
            "thread/status/changed",
            "turn/completed",
        ],
        "{:?}",
        back.log
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_exec_output_goes_only_to_the_connection_that_started_it() {
    let env = Env::new().await;
    let server = SocketServer::start(&env, &[]).await;
    let mut a = server.unix_client("client_a").await;
    let mut b = server.unix_client("client_b").await;
    let answer = a
        .call::<m::CommandExec>(json!({
            "command": ["sh", "-c", "echo from-a"],
            "processId": "p1",
            "streamStdoutStderr": true,
            "sandboxPolicy": {"type": "dangerFullAccess"},
        }))
        .await;
    assert_eq!(answer["exitCode"], 0, "{answer}");
    assert!(a.has_received("command/exec/outputDelta"));
    // B's own answer comes after anything the server queued for it during A's command.
    b.call::<m::ThreadList>(json!({})).await;
    assert!(
        !b.has_received("command/exec/outputDelta"),
        "another connection's processId leaked to B"
    );
}
