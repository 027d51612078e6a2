//! Faults on the client side of the wire: a burst of pipelined requests, lines the server must
//! refuse (too long, nested too deep) and a very large prompt. Every request gets exactly one
//! answer, refusals name the reason and carry the id when it can be read, and the server keeps
//! serving.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::harness::{text_input, Home, Mock, Server};

/// Longest line the server accepts in the over-long and nesting cases.
const LINE_LIMIT: usize = 4096;

/// The server still answers an ordinary request.
async fn assert_still_serving(server: &mut Server) {
    let list = server.ok("thread/list", json!({"limit": 1})).await;
    assert!(list["data"].is_array(), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_of_1000_pipelined_requests_each_answered_exactly_once() {
    const BURST: usize = 1000;
    let home = Home::new();
    let mock = Mock::start().await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    // One write holding every request, a mix of cheap reads and thread creation.
    let mut burst = Vec::new();
    let mut ids = Vec::new();
    for i in 0..BURST {
        let id = server.fresh_id();
        let (method, params) = match i % 4 {
            0 => ("thread/start", json!({})),
            1 => ("thread/list", json!({"limit": 5})),
            2 => ("model/list", json!({})),
            _ => ("thread/loaded/list", json!({})),
        };
        burst.extend_from_slice(
            json!({"id": id, "method": method, "params": params})
                .to_string()
                .as_bytes(),
        );
        burst.push(b'\n');
        ids.push(id);
    }
    server.send_bytes(&burst).await;
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    let mut overloaded = 0;
    while answers.len() < BURST {
        let msg = server
            .wait_for("the rest of the burst's replies", |m| {
                m.get("id").is_some() && m.get("method").is_none()
            })
            .await;
        let id = msg["id"].to_string();
        if let Some(error) = msg.get("error") {
            assert_eq!(error["code"], -32001, "only overload may refuse: {msg}");
            overloaded += 1;
        } else {
            assert!(msg.get("result").is_some(), "{msg}");
        }
        assert!(
            answers.insert(id.clone(), msg).is_none(),
            "request {id} answered twice"
        );
    }
    for id in &ids {
        assert!(answers.contains_key(&id.to_string()), "{id} unanswered");
    }
    eprintln!("burst of {BURST}: {overloaded} answered -32001 (overloaded)");
    assert_still_serving(&mut server).await;
    if let Some(msg) = server.take_ready(|m| m.get("id").is_some() && m.get("method").is_none()) {
        panic!("a reply after every request was answered: {msg}");
    }
    let threads = server.list_all(200).await;
    let started = answers
        .values()
        .filter(|m| m["result"]["thread"]["id"].is_string())
        .count();
    assert_eq!(
        threads.len(),
        started,
        "every acknowledged thread/start is listed once"
    );
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_line_is_answered_with_its_id_and_serving_continues() {
    let home = Home::new();
    let mock = Mock::start().await;
    let limit = format!("app_server.max_line_bytes={LINE_LIMIT}");
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[&limit]).await;
    let pad = "x".repeat(2 * LINE_LIMIT);

    // The id leads the line: it is readable before the limit.
    server
        .send_line(
            &json!({"id": "long-1", "method": "thread/list", "params": {"pad": pad}}).to_string(),
        )
        .await;
    let reply = server
        .wait_for("a reply to the over-long line", |m| {
            m.get("error").is_some()
        })
        .await;
    assert_eq!(reply["id"], "long-1", "{reply}");
    let message = reply["error"]["message"].as_str().expect("message");
    assert!(
        message.contains(&LINE_LIMIT.to_string()),
        "the error must name the limit: {reply}"
    );
    assert_still_serving(&mut server).await;

    // No id anywhere near the start: answered with a null id.
    server.send_line(&pad).await;
    let reply = server
        .wait_for("a reply to the over-long garbage", |m| {
            m.get("error").is_some()
        })
        .await;
    assert!(reply["id"].is_null(), "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(&LINE_LIMIT.to_string())),
        "{reply}"
    );
    assert_still_serving(&mut server).await;

    // A line exactly at the limit is still read.
    let id = server.fresh_id();
    let base = json!({"id": id, "method": "thread/list", "params": {"pad": ""}}).to_string();
    let fill = LINE_LIMIT - base.len();
    let line =
        json!({"id": id, "method": "thread/list", "params": {"pad": "y".repeat(fill)}}).to_string();
    assert_eq!(line.len(), LINE_LIMIT);
    server.send_line(&line).await;
    let reply = server.reply(&id).await;
    assert!(reply.get("result").is_some(), "{reply}");
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_deeply_nested_line_is_answered_with_its_id() {
    let home = Home::new();
    let mock = Mock::start().await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));

    server
        .send_line(&format!(
            r#"{{"id":"deep-1","method":"thread/list","params":{{"a":{deep}}}}}"#
        ))
        .await;
    let reply = server
        .wait_for("a reply to the deep line", |m| m.get("error").is_some())
        .await;
    assert_eq!(reply["id"], "deep-1", "{reply}");
    let message = reply["error"]["message"]
        .as_str()
        .expect("message")
        .to_lowercase();
    assert!(
        message.contains("depth") || message.contains("nest") || message.contains("recursion"),
        "the error must say the line is nested too deeply: {reply}"
    );
    assert_still_serving(&mut server).await;

    server.send_line(&deep).await;
    let reply = server
        .wait_for("a reply to the deep line without an id", |m| {
            m.get("error").is_some()
        })
        .await;
    assert!(reply["id"].is_null(), "{reply}");
    assert_still_serving(&mut server).await;
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mib_prompt_reaches_the_model_and_the_rollout_intact() {
    const MIB: usize = 1024 * 1024;
    let home = Home::new();
    let mock = Mock::start().await;
    mock.enqueue(json!([{"type": "message", "text": "read it all"}]))
        .await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let thread = server.start_thread(json!({})).await;
    // Varied text (not one repeated byte) with both ends marked.
    let mut prompt = String::from("BEGIN ");
    let mut i = 0u64;
    while prompt.len() < MIB - 4 {
        prompt.push_str(&format!("{i:x} "));
        i += 1;
    }
    prompt.truncate(MIB - 4);
    prompt.push_str(" END");
    assert_eq!(prompt.len(), MIB);
    let id = server
        .request(
            "turn/start",
            json!({"threadId": thread, "input": text_input(&prompt)}),
        )
        .await;
    let reply = server.reply(&id).await;
    let turn = reply["result"]["turn"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_string();
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");

    let requests = mock.model_requests().await;
    let sent = requests[0].to_string();
    assert!(
        sent.contains(&prompt),
        "the model request does not carry the whole prompt"
    );
    assert_eq!(server.close().await.code(), Some(0));

    let mut server = Server::start(home.path(), home.cwd(), &mock, &[]).await;
    let read = server.read_thread(&thread).await;
    let stored = read["turns"][0]["items"][0]["content"][0]["text"]
        .as_str()
        .expect("prompt text");
    assert_eq!(stored.len(), MIB);
    assert!(stored == prompt, "the stored prompt differs");
    assert_eq!(server.close().await.code(), Some(0));
}
