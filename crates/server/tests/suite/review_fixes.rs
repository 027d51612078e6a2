//! Regressions found in review: a retried stream must not record the failed attempt's items;
//! requests on one thread run in arrival order; a resumed thread keeps its instructions; a tool
//! call left without output (the process died) is closed before the next model request.

use super::harness::{input_contains, Env, Server};
use codex_mock_model::{
    assistant_message, ev_created, ev_message_item_added, ev_message_item_done, Reply,
};
use codex_protocol::methods::{Method, ThreadRead, ThreadSetName, ThreadStart};
use serde_json::{json, Value};

#[tokio::test]
async fn a_retried_stream_records_only_the_completed_attempt() {
    let env = Env::new().await;
    // The first attempt completes a message item, then the connection drops.
    env.mock.enqueue(Reply::DropAfter {
        events: vec![
            ev_created("r0"),
            ev_message_item_added("msg_r0"),
            ev_message_item_done("msg_r0", "partial answer"),
        ],
    });
    env.mock.enqueue(assistant_message("r1", "final answer"));
    let overrides = env.overrides_with_retries(0, 2);
    let mut server = Server::spawn(env.home.path(), env.work.path(), &overrides);
    server.initialize().await;
    let thread = server.start_thread().await;
    let done = server.run_turn(&thread, "hi").await;
    let texts = |items: &Value| -> Vec<String> {
        items
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["type"] == "agentMessage")
            .map(|i| i["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        texts(&done["turn"]["items"]),
        vec!["final answer"],
        "{done}"
    );
    let read = server
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": true}))
        .await;
    assert_eq!(
        texts(&read["thread"]["turns"][0]["items"]),
        vec!["final answer"],
        "{read}"
    );
}

#[tokio::test]
async fn requests_on_one_thread_run_in_arrival_order() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    for round in 0..20 {
        let (a, b) = (format!("name-a-{round}"), format!("name-b-{round}"));
        server
            .send(
                &json!({"id": format!("a{round}"), "method": ThreadSetName::NAME,
                          "params": {"threadId": thread, "name": a}}),
            )
            .await;
        server
            .send(
                &json!({"id": format!("b{round}"), "method": ThreadSetName::NAME,
                          "params": {"threadId": thread, "name": b}}),
            )
            .await;
        server.response(&json!(format!("a{round}"))).await;
        server.response(&json!(format!("b{round}"))).await;
        let read = server.call::<ThreadRead>(json!({"threadId": thread})).await;
        assert_eq!(read["thread"]["name"], b, "round {round}: {read}");
    }
}

#[tokio::test]
async fn resumed_thread_keeps_its_instructions_after_a_restart() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    env.mock.enqueue(assistant_message("r2", "two"));
    let thread = {
        let mut server = env.server(&[]).await;
        let started = server
            .call::<ThreadStart>(json!({"baseInstructions": "BASE-INSTR-42",
                                        "developerInstructions": "DEV-INSTR-17"}))
            .await;
        let thread = started["thread"]["id"].as_str().unwrap().to_string();
        server.run_turn(&thread, "first").await;
        server.close_and_wait().await;
        thread
    };
    let mut server = env.server(&[]).await;
    server
        .call::<codex_protocol::methods::ThreadResume>(json!({"threadId": thread}))
        .await;
    server.run_turn(&thread, "second").await;
    let requests = env.wait_model_requests(2).await;
    assert!(
        input_contains(&requests[1], "BASE-INSTR-42"),
        "{}",
        requests[1]
    );
    assert!(
        input_contains(&requests[1], "DEV-INSTR-17"),
        "{}",
        requests[1]
    );
}

#[tokio::test]
async fn a_tool_call_left_without_output_is_closed_before_the_next_request() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    server.run_turn(&thread, "first").await;
    server.close_and_wait().await;
    // What a process killed while a tool ran leaves behind: a call and no output.
    let rollout = walk_jsonl(&env.home.path().join("sessions"));
    let line = json!({"timestamp": "2026-11-25T00:00:00.000Z", "type": "response_item",
        "payload": {"type": "function_call", "call_id": "call_dead", "name": "exec_command",
                    "arguments": "{\"cmd\":\"true\"}"}});
    let mut text = std::fs::read_to_string(&rollout).unwrap();
    text.push_str(&format!("{line}\n"));
    std::fs::write(&rollout, text).unwrap();

    env.mock.enqueue(assistant_message("r2", "two"));
    let mut server = env.server(&[]).await;
    server.run_turn(&thread, "after the crash").await;
    let requests = env.wait_model_requests(2).await;
    let input = requests[1]["input"].as_array().unwrap();
    let call = input
        .iter()
        .position(|i| i["call_id"] == "call_dead" && i["type"] == "function_call")
        .expect("the call is still in the history");
    assert_eq!(input[call + 1]["type"], "function_call_output");
    assert_eq!(input[call + 1]["call_id"], "call_dead");
}

fn walk_jsonl(dir: &std::path::Path) -> std::path::PathBuf {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "jsonl") {
                return p;
            }
        }
    }
    panic!("no rollout under {}", dir.display());
}

#[tokio::test]
async fn an_unusable_store_fails_requests_clearly_while_initialize_still_answers() {
    let env = Env::new().await;
    // `sessions` is a file: the store cannot create its directory tree.
    std::fs::write(env.home.path().join("sessions"), "not a directory").unwrap();
    let mut server = Server::spawn(env.home.path(), env.work.path(), &env.mock_overrides());
    let init = server.initialize().await;
    assert!(init["userAgent"].is_string(), "{init}");
    let err = server.call_err(ThreadStart::NAME, json!({})).await;
    assert_eq!(err["code"], -32603, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("thread store could not be opened"),
        "{err}"
    );
    // The server keeps serving what does not need the store.
    let models = server
        .call::<codex_protocol::methods::ModelList>(json!({}))
        .await;
    assert!(models["data"].is_array());
}
