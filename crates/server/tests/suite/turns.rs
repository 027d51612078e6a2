//! Turns against the mock model: notification order, usage, failures and retries, interrupt,
//! steer, joining a busy thread, concurrency, overrides, images and compaction.

use super::harness::{input_contains, input_texts, text_input, Env, Server};
use codex_mock_model::{
    assistant_message, ev_created, ev_message_item_added, ev_output_text_delta, message_events,
    response_failed, streamed_message, Reply, Usage,
};
use codex_protocol::methods::Error as ErrorNote;
use codex_protocol::methods::{
    AgentMessageDelta, ItemCompleted, ItemStarted, Method, Notification, ThreadCompactStart,
    ThreadTokenUsageUpdated, TurnCompleted, TurnInterrupt, TurnStart, TurnStarted, TurnSteer,
};
use serde_json::{json, Value};
use std::time::Duration;

/// Queues a stream that sends its first delta, then waits for `env.mock.release()`.
fn enqueue_gated(env: &Env, response_id: &str, first: &str, rest: &str) {
    let item = format!("msg_{response_id}");
    // message_events: created, item added, part added, delta(first), delta(rest), done, completed
    let all = message_events(response_id, &[first, rest]);
    env.mock.enqueue(Reply::Gated {
        before: vec![
            ev_created(response_id),
            ev_message_item_added(&item),
            ev_output_text_delta(&item, first),
        ],
        gate: env.mock.gate(),
        after: all[4..].to_vec(),
    });
}

fn method_of(m: &Value) -> &str {
    m["method"].as_str().unwrap_or("")
}

async fn wait_delta(server: &mut Server, turn_id: &str) -> Value {
    let tid = turn_id.to_string();
    server
        .wait_for("first delta", move |m| {
            m["method"] == AgentMessageDelta::NAME && m["params"]["turnId"] == tid
        })
        .await["params"]
        .clone()
}

#[tokio::test]
async fn simple_turn_notifications_arrive_in_protocol_order() {
    let env = Env::new().await;
    env.mock
        .enqueue(streamed_message("r1", &["Hel", "lo ", "there"]));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let start_at = server.log.len();
    let turn = server.start_turn(&thread, "Say hello").await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    // Everything about this turn, in arrival order, including the turn/start response.
    let relevant: Vec<&Value> = server.log[start_at..]
        .iter()
        .filter(|m| {
            m.get("result").is_some()
                || m["params"]["turnId"] == turn.as_str()
                || m["params"]["turn"]["id"] == turn.as_str()
        })
        .collect();
    let names: Vec<String> = relevant
        .iter()
        .map(|m| {
            if m.get("result").is_some() {
                return "response".to_string();
            }
            let method = method_of(m);
            if method == ItemStarted::NAME || method == ItemCompleted::NAME {
                format!("{method}:{}", m["params"]["item"]["type"].as_str().unwrap())
            } else {
                method.to_string()
            }
        })
        .collect();
    let expected = vec![
        "response".to_string(),
        TurnStarted::NAME.to_string(),
        format!("{}:userMessage", ItemStarted::NAME),
        format!("{}:userMessage", ItemCompleted::NAME),
        format!("{}:agentMessage", ItemStarted::NAME),
        AgentMessageDelta::NAME.to_string(),
        AgentMessageDelta::NAME.to_string(),
        AgentMessageDelta::NAME.to_string(),
        format!("{}:agentMessage", ItemCompleted::NAME),
        ThreadTokenUsageUpdated::NAME.to_string(),
        TurnCompleted::NAME.to_string(),
    ];
    assert_eq!(names, expected);

    let deltas: String = relevant
        .iter()
        .filter(|m| method_of(m) == AgentMessageDelta::NAME)
        .map(|m| m["params"]["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Hello there");
    let agent_done = relevant
        .iter()
        .find(|m| {
            method_of(m) == ItemCompleted::NAME && m["params"]["item"]["type"] == "agentMessage"
        })
        .unwrap();
    assert_eq!(agent_done["params"]["item"]["text"], "Hello there");
    assert_eq!(agent_done["params"]["item"]["id"], "msg_r1");
    let delta = relevant
        .iter()
        .find(|m| method_of(m) == AgentMessageDelta::NAME)
        .unwrap();
    assert_eq!(delta["params"]["itemId"], "msg_r1");
    let user_done = relevant
        .iter()
        .find(|m| {
            method_of(m) == ItemCompleted::NAME && m["params"]["item"]["type"] == "userMessage"
        })
        .unwrap();
    assert_eq!(
        user_done["params"]["item"]["content"][0]["text"],
        "Say hello"
    );
    assert!(user_done["params"]["completedAtMs"].is_i64());
    let started = relevant
        .iter()
        .find(|m| method_of(m) == TurnStarted::NAME)
        .unwrap();
    assert_eq!(started["params"]["turn"]["status"], "inProgress");
    assert!(started["params"]["turn"]["startedAt"].is_i64());

    // The request the model saw.
    let body = &env.wait_model_requests(1).await[0];
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["store"], false);
    assert!(input_contains(body, "Say hello"), "{body}");
}

#[tokio::test]
async fn token_usage_reports_last_and_total_and_turn_completed_carries_details() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    env.mock.enqueue(assistant_message("r2", "two"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let u = Usage::default();

    let first = server.start_turn(&thread, "first").await;
    let usage1 = server
        .thread_notification::<ThreadTokenUsageUpdated>(&thread)
        .await;
    let done1 = server.turn_completed(&first).await;
    assert_eq!(usage1["turnId"], first.as_str());
    assert_eq!(usage1["tokenUsage"]["last"]["inputTokens"], u.input_tokens);
    assert_eq!(
        usage1["tokenUsage"]["last"]["cachedInputTokens"],
        u.cached_input_tokens
    );
    assert_eq!(
        usage1["tokenUsage"]["last"]["outputTokens"],
        u.output_tokens
    );
    assert_eq!(usage1["tokenUsage"]["total"]["totalTokens"], u.total_tokens);
    assert!(usage1["tokenUsage"]["modelContextWindow"].as_i64().unwrap() > 0);

    let turn = &done1["turn"];
    assert_eq!(turn["status"], "completed");
    assert_eq!(turn["error"], Value::Null);
    let started_at = turn["startedAt"].as_i64().expect("startedAt");
    let completed_at = turn["completedAt"].as_i64().expect("completedAt");
    assert!(completed_at >= started_at);
    assert!(turn["durationMs"].as_i64().expect("durationMs") >= 0);
    let items: Vec<&str> = turn["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(items, vec!["userMessage", "agentMessage"], "{turn}");
    assert_eq!(turn["items"][1]["text"], "one");
    assert_eq!(
        turn["usage"]["total"]["totalTokens"], u.total_tokens,
        "{turn}"
    );

    let second = server.start_turn(&thread, "second").await;
    let usage2 = server
        .thread_notification::<ThreadTokenUsageUpdated>(&thread)
        .await;
    let done2 = server.turn_completed(&second).await;
    assert_eq!(usage2["tokenUsage"]["last"]["totalTokens"], u.total_tokens);
    assert_eq!(
        usage2["tokenUsage"]["total"]["totalTokens"],
        2 * u.total_tokens
    );
    assert_eq!(
        usage2["tokenUsage"]["total"]["inputTokens"],
        2 * u.input_tokens
    );
    // The turn's own usage covers only this turn.
    assert_eq!(
        done2["turn"]["usage"]["total"]["totalTokens"],
        u.total_tokens
    );
}

async fn assert_failed_then_recovers(env: &Env, server: &mut Server, cause: &str) {
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "please fail").await;
    let err = server.thread_notification::<ErrorNote>(&thread).await;
    assert_eq!(err["willRetry"], false, "{err}");
    assert_eq!(err["turnId"], turn.as_str());
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "failed", "{done}");
    let message = done["turn"]["error"]["message"]
        .as_str()
        .expect("error message");
    assert!(message.contains(cause), "{message}");
    assert_eq!(err["error"]["message"], message);

    env.mock.enqueue(assistant_message("ok", "recovered"));
    let done = server.run_turn(&thread, "try again").await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    assert_eq!(done["turn"]["error"], Value::Null);
}

#[tokio::test]
async fn http_500_without_retries_fails_the_turn_and_the_next_turn_works() {
    let env = Env::new().await;
    env.mock.enqueue(Reply::status(
        500,
        r#"{"error":{"type":"server_error","message":"backend exploded"}}"#,
    ));
    let mut server = env.server(&[]).await;
    assert_failed_then_recovers(&env, &mut server, "backend exploded").await;
    // No retries configured: exactly one request for the failed turn.
    assert_eq!(env.model_requests().len(), 2);
}

#[tokio::test]
async fn response_failed_fails_the_turn_and_the_next_turn_works() {
    let env = Env::new().await;
    env.mock
        .enqueue(response_failed("r1", "server_error", "the model crashed"));
    let mut server = env.server(&[]).await;
    assert_failed_then_recovers(&env, &mut server, "the model crashed").await;
}

#[tokio::test]
async fn request_retries_are_announced_then_succeed() {
    let env = Env::new().await;
    for _ in 0..2 {
        env.mock.enqueue(Reply::Status {
            status: 500,
            body: r#"{"error":{"message":"flaky"}}"#.into(),
            retry_after: Some("0".into()),
        });
    }
    env.mock.enqueue(assistant_message("r1", "made it"));
    let overrides = env.overrides_with_retries(3, 0);
    let mut server = Server::spawn(env.home.path(), env.work.path(), &overrides);
    server.initialize().await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "hi").await;
    let first = server.thread_notification::<ErrorNote>(&thread).await;
    let second = server.thread_notification::<ErrorNote>(&thread).await;
    assert_eq!(first["willRetry"], true, "{first}");
    assert_eq!(first["error"]["message"], "Reconnecting... 1/3");
    assert_eq!(second["willRetry"], true);
    assert_eq!(second["error"]["message"], "Reconnecting... 2/3");
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    assert_eq!(env.model_requests().len(), 3);
    server.drain_ready();
    assert!(!server
        .backlog()
        .iter()
        .any(|m| method_of(m) == ErrorNote::NAME));
}

#[tokio::test]
async fn dropped_stream_is_retried_when_stream_retries_are_configured() {
    let env = Env::new().await;
    let item = "msg_r0";
    env.mock.enqueue(Reply::DropAfter {
        events: vec![
            ev_created("r0"),
            ev_message_item_added(item),
            ev_output_text_delta(item, "par"),
        ],
    });
    env.mock.enqueue(assistant_message("r1", "whole answer"));
    let overrides = env.overrides_with_retries(0, 2);
    let mut server = Server::spawn(env.home.path(), env.work.path(), &overrides);
    server.initialize().await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "hi").await;
    let retry = server.thread_notification::<ErrorNote>(&thread).await;
    assert_eq!(retry["willRetry"], true, "{retry}");
    assert_eq!(retry["error"]["message"], "Reconnecting... 1/2");
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let agent = done["turn"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["type"] == "agentMessage")
        .cloned()
        .expect("agent message");
    assert_eq!(agent["text"], "whole answer");
}

#[tokio::test]
async fn retries_exhausted_fail_with_the_cause() {
    let env = Env::new().await;
    for _ in 0..3 {
        env.mock.enqueue(Reply::Status {
            status: 503,
            body: r#"{"error":{"message":"overloaded upstream"}}"#.into(),
            retry_after: Some("0".into()),
        });
    }
    let overrides = env.overrides_with_retries(2, 0);
    let mut server = Server::spawn(env.home.path(), env.work.path(), &overrides);
    server.initialize().await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "hi").await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "failed", "{done}");
    let message = done["turn"]["error"]["message"].as_str().unwrap();
    assert!(message.contains("overloaded upstream"), "{message}");
    let retries: Vec<bool> = server
        .log
        .iter()
        .filter(|m| method_of(m) == ErrorNote::NAME)
        .map(|m| m["params"]["willRetry"].as_bool().unwrap())
        .collect();
    assert_eq!(retries, vec![true, true, false]);
    assert_eq!(env.model_requests().len(), 3);
}

#[tokio::test]
async fn interrupt_ends_the_turn_promptly_and_cancels_the_request() {
    let env = Env::new().await;
    enqueue_gated(&env, "r1", "partial", " never sent");
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "long task").await;
    wait_delta(&mut server, &turn).await;

    let started = std::time::Instant::now();
    let result = server
        .call::<TurnInterrupt>(json!({"threadId": thread, "turnId": turn}))
        .await;
    assert_eq!(result, json!({}));
    // As the official server does: the answer comes before the turn's end is announced.
    assert!(
        !server
            .backlog()
            .iter()
            .any(|m| m["method"] == TurnCompleted::NAME),
        "turn/completed arrived before the interrupt answer"
    );
    let done = server.turn_completed(&turn).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "interrupt took {:?}",
        started.elapsed()
    );
    assert_eq!(done["turn"]["status"], "interrupted", "{done}");
    assert_eq!(done["turn"]["error"], Value::Null);
    env.mock
        .wait_for_aborted_streams(1, Duration::from_secs(10))
        .await
        .expect("the model request was not cancelled");

    // Interrupting again: no active turn.
    let err = server
        .call_err(
            TurnInterrupt::NAME,
            json!({"threadId": thread, "turnId": turn}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("no active turn"),
        "{err}"
    );
    // The thread keeps working.
    env.mock.enqueue(assistant_message("r2", "fine"));
    let done = server.run_turn(&thread, "next").await;
    assert_eq!(done["turn"]["status"], "completed");
}

#[tokio::test]
async fn steer_checks_the_turn_id_and_reaches_the_next_request() {
    let env = Env::new().await;
    enqueue_gated(&env, "r1", "working", " on it");
    env.mock.enqueue(assistant_message("r2", "steered answer"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "start task").await;
    wait_delta(&mut server, &turn).await;

    let err = server
        .call_err(
            TurnSteer::NAME,
            json!({"threadId": thread, "expectedTurnId": "wrong-turn", "input": text_input("x")}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("wrong-turn"),
        "{err}"
    );

    let r = server
        .call::<TurnSteer>(json!({"threadId": thread, "expectedTurnId": turn,
            "input": text_input("also handle the STEERED case")}))
        .await;
    assert_eq!(r["turnId"], turn.as_str());
    env.mock.release();
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let bodies = env.wait_model_requests(2).await;
    assert!(!input_contains(&bodies[0], "STEERED"));
    assert!(
        input_contains(&bodies[1], "also handle the STEERED case"),
        "{}",
        bodies[1]
    );
    assert!(input_contains(&bodies[1], "working on it"), "{}", bodies[1]);
    // With the turn over there is nothing to steer.
    let err = server
        .call_err(
            TurnSteer::NAME,
            json!({"threadId": thread, "expectedTurnId": turn, "input": text_input("late")}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("no active turn"),
        "{err}"
    );
}

#[tokio::test]
async fn turn_start_on_a_busy_thread_joins_the_running_turn() {
    let env = Env::new().await;
    enqueue_gated(&env, "r1", "busy", " now");
    env.mock.enqueue(assistant_message("r2", "joined answer"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "first input").await;
    wait_delta(&mut server, &turn).await;
    let joined = server.start_turn(&thread, "JOINED input").await;
    assert_eq!(
        joined, turn,
        "second turn/start should join the running turn"
    );
    env.mock.release();
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed");
    let bodies = env.wait_model_requests(2).await;
    assert!(input_contains(&bodies[1], "JOINED input"), "{}", bodies[1]);
    server.drain_ready();
    let started = server
        .log
        .iter()
        .filter(|m| method_of(m) == TurnStarted::NAME)
        .count();
    assert_eq!(started, 1, "joining must not start another turn");
}

#[tokio::test]
async fn turns_on_two_threads_run_concurrently() {
    let env = Env::new().await;
    enqueue_gated(&env, "ra", "a", "1");
    enqueue_gated(&env, "rb", "b", "2");
    let mut server = env.server(&[]).await;
    let t1 = server.start_thread().await;
    let t2 = server.start_thread().await;
    let turn1 = server.start_turn(&t1, "one").await;
    let turn2 = server.start_turn(&t2, "two").await;
    // Both requests are at the model before either is allowed to finish.
    env.wait_model_requests(2).await;
    env.mock.release();
    let first = server
        .wait_for("a turn/completed", |m| method_of(m) == TurnCompleted::NAME)
        .await;
    env.mock.release();
    let other = if first["params"]["turn"]["id"] == turn1.as_str() {
        &turn2
    } else {
        &turn1
    };
    let second = server.turn_completed(other).await;
    assert_eq!(first["params"]["turn"]["status"], "completed");
    assert_eq!(second["turn"]["status"], "completed");
}

#[tokio::test]
async fn per_turn_model_override_persists_to_later_turns() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    env.mock.enqueue(assistant_message("r2", "two"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let r = server
        .call::<TurnStart>(json!({"threadId": thread, "input": text_input("a"),
            "model": "other-model"}))
        .await;
    server
        .turn_completed(r["turn"]["id"].as_str().unwrap())
        .await;
    server.run_turn(&thread, "b").await;
    let bodies = env.wait_model_requests(2).await;
    assert_eq!(bodies[0]["model"], "other-model");
    assert_eq!(bodies[1]["model"], "other-model");
}

#[tokio::test]
async fn local_image_is_inlined_and_a_missing_file_is_invalid_params() {
    let env = Env::new().await;
    let png = env.work.path().join("pic.png");
    std::fs::write(&png, [0x89, b'P', b'N', b'G']).unwrap();
    env.mock.enqueue(assistant_message("r1", "nice picture"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let r = server
        .call::<TurnStart>(json!({"threadId": thread, "input": [
            {"type": "text", "text": "look"},
            {"type": "localImage", "path": png.to_str().unwrap()}
        ]}))
        .await;
    server
        .turn_completed(r["turn"]["id"].as_str().unwrap())
        .await;
    let body = &env.wait_model_requests(1).await[0];
    let urls: Vec<&str> = body["input"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["content"].as_array().into_iter().flatten())
        .filter(|c| c["type"] == "input_image")
        .filter_map(|c| c["image_url"].as_str())
        .collect();
    assert_eq!(urls, vec!["data:image/png;base64,iVBORw=="], "{body}");

    let missing = env.work.path().join("nope.png");
    let err = server
        .call_err(
            TurnStart::NAME,
            json!({"threadId": thread, "input": [
                {"type": "localImage", "path": missing.to_str().unwrap()}
            ]}),
        )
        .await;
    assert_eq!(
        err["code"],
        codex_protocol::jsonrpc::error_codes::INVALID_PARAMS,
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("nope.png"),
        "{err}"
    );
    assert_eq!(
        env.model_requests().len(),
        1,
        "a rejected turn must not reach the model"
    );
}

fn input_size(body: &Value) -> usize {
    body["input"].to_string().len()
}

#[tokio::test]
async fn manual_compaction_emits_an_item_and_shrinks_the_next_request() {
    let env = Env::new().await;
    let long_answer = "lorem ipsum ".repeat(2000);
    env.mock.enqueue(assistant_message("r1", &long_answer));
    env.mock.enqueue(assistant_message(
        "sum",
        "SUMMARY: user asked for lorem ipsum",
    ));
    env.mock
        .enqueue(assistant_message("r3", "after compaction"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let first = server.run_turn(&thread, "write a lot").await["turn"]["id"].clone();

    let mark = server.log.len();
    let r = server
        .call::<ThreadCompactStart>(json!({"threadId": thread}))
        .await;
    assert_eq!(r, json!({}));
    let started = server
        .wait_for("compaction turn/started", |m| {
            m["method"] == TurnStarted::NAME && m["params"]["turn"]["id"] != first
        })
        .await;
    let compact_turn = started["params"]["turn"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = server.turn_completed(&compact_turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let items: Vec<(String, String)> = server.log[mark..]
        .iter()
        .filter(|m| method_of(m) == ItemStarted::NAME || method_of(m) == ItemCompleted::NAME)
        .filter(|m| m["params"]["turnId"] == compact_turn.as_str())
        .map(|m| {
            (
                method_of(m).to_string(),
                m["params"]["item"]["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            (
                ItemStarted::NAME.to_string(),
                "contextCompaction".to_string()
            ),
            (
                ItemCompleted::NAME.to_string(),
                "contextCompaction".to_string()
            ),
        ]
    );

    let after = server.run_turn(&thread, "continue please").await;
    assert_eq!(after["turn"]["status"], "completed");
    let bodies = env.wait_model_requests(3).await;
    let (summary_req, next) = (&bodies[1], &bodies[2]);
    assert!(
        input_contains(summary_req, "lorem ipsum lorem"),
        "summary request lacks history"
    );
    assert_eq!(summary_req["tools"], json!([]), "{summary_req}");
    assert!(
        input_contains(next, "SUMMARY: user asked for lorem ipsum"),
        "{next}"
    );
    assert!(input_contains(next, "continue please"));
    assert!(
        input_contains(next, "write a lot"),
        "recent user messages are kept"
    );
    assert!(
        !input_contains(next, "lorem ipsum lorem ipsum"),
        "old answer still sent"
    );
    assert!(
        input_size(next) < input_size(summary_req) / 4,
        "next request did not shrink"
    );
}

#[tokio::test]
async fn auto_compaction_runs_inside_the_turn_when_usage_crosses_the_limit() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "first answer"));
    env.mock.enqueue(assistant_message("sum", "AUTO SUMMARY"));
    env.mock.enqueue(assistant_message("r2", "second answer"));
    let mut server = env.server(&["model_auto_compact_token_limit=100"]).await;
    let thread = server.start_thread().await;
    // Default mock usage is 127 tokens, above the limit of 100.
    server.run_turn(&thread, "one").await;
    let done = server.run_turn(&thread, "two").await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let types: Vec<&str> = done["turn"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"contextCompaction"), "{types:?}");
    let bodies = env.wait_model_requests(3).await;
    assert!(input_contains(&bodies[2], "AUTO SUMMARY"), "{}", bodies[2]);
    assert!(input_contains(&bodies[2], "two"));
    assert!(!input_texts(&bodies[2]).iter().any(|t| t == "first answer"));
}

#[tokio::test]
async fn stdin_eof_during_a_turn_still_completes_it_and_exits_zero() {
    let env = Env::new().await;
    enqueue_gated(&env, "r1", "half", " never");
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "long").await;
    wait_delta(&mut server, &turn).await;
    let status = server.close_and_wait().await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", server.stderr());
    let done = server
        .backlog()
        .iter()
        .find(|m| m["method"] == TurnCompleted::NAME && m["params"]["turn"]["id"] == turn.as_str())
        .cloned()
        .expect("no turn/completed for the running turn before exit");
    assert_eq!(done["params"]["turn"]["status"], "interrupted", "{done}");
    // The interrupted turn is on disk for the next process.
    let mut again = env.server(&[]).await;
    let thread = again
        .call::<codex_protocol::methods::ThreadRead>(
            json!({"threadId": thread, "includeTurns": true}),
        )
        .await;
    let turns = thread["thread"]["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 1, "{thread}");
    assert_eq!(turns[0]["status"], "interrupted", "{thread}");
}
