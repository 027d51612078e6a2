//! A model endpoint that misbehaves: a body that is not SSE, malformed events, events after
//! garbage, a stream that goes silent. The turn either reads what is valid and completes, or
//! fails with a clear error; the next turn works either way.

use serde_json::{json, Value};

use super::harness::{Home, Mock, Server};

/// One SSE event on the wire.
fn event(data: Value) -> String {
    let name = data["type"].as_str().expect("typed event").to_string();
    format!("event: {name}\ndata: {data}\n\n")
}

/// A complete, valid response carrying one assistant message.
fn valid_message(response_id: &str, text: &str) -> String {
    let item = format!("msg_{response_id}");
    [
        json!({"type": "response.created", "response": {"id": response_id}}),
        json!({"type": "response.output_item.added", "output_index": 0,
               "item": {"type": "message", "id": item, "role": "assistant", "content": []}}),
        json!({"type": "response.output_text.delta", "item_id": item, "output_index": 0,
               "content_index": 0, "delta": text}),
        json!({"type": "response.output_item.done", "output_index": 0,
               "item": {"type": "message", "id": item, "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": text}]}}),
        json!({"type": "response.completed", "response": {"id": response_id, "usage": {
            "input_tokens": 10, "output_tokens": 2, "total_tokens": 12}}}),
    ]
    .into_iter()
    .map(event)
    .collect()
}

/// Runs one turn against whatever the mock answers next and returns the finished turn.
async fn turn(server: &mut Server, thread: &str, prompt: &str) -> Value {
    server.run_turn(thread, prompt).await
}

fn agent_text(turn: &Value) -> Vec<String> {
    turn["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["type"] == "agentMessage")
        .filter_map(|i| i["text"].as_str().map(str::to_string))
        .collect()
}

fn assert_failed_clearly(turn: &Value) {
    assert_eq!(turn["status"], "failed", "{turn}");
    let message = turn["error"]["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "a failed turn must say why: {turn}");
}

async fn setup(extra: &[&str]) -> (Home, Mock, Server, String) {
    let home = Home::new();
    let mock = Mock::start().await;
    let mut server = Server::start(home.path(), home.cwd(), &mock, extra).await;
    let thread = server.start_thread(json!({})).await;
    (home, mock, server, thread)
}

/// After the fault, a normal answer completes a turn on the same thread.
async fn next_turn_works(mock: &Mock, server: &mut Server, thread: &str) {
    mock.enqueue(json!([{"type": "message", "text": "back to normal"}]))
        .await;
    let done = turn(server, thread, "and now?").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(agent_text(&done), ["back to normal"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_sse_fails_the_turn_clearly() {
    let (_home, mock, mut server, thread) = setup(&[]).await;
    mock.enqueue(json!([{"type": "raw", "content_type": "text/html",
        "chunks": ["<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>\n"]}]))
        .await;
    let done = turn(&mut server, &thread, "hello?").await;
    assert_failed_clearly(&done);
    next_turn_works(&mock, &mut server, &thread).await;
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_skipped_and_a_stream_of_nothing_else_fails() {
    let (_home, mock, mut server, thread) = setup(&[]).await;
    let malformed = concat!(
        "data: {not json\n\n",
        "event: response.output_text.delta\ndata: [1, 2\n\n",
        "data: {\"type\": \"response.output_text.delta\"}\n\n",
        "data: {\"type\": \"response.output_item.done\", \"item\": 7}\n\n",
        "data: \"a string\"\n\n",
    );
    mock.enqueue(json!([{"type": "raw",
        "chunks": [malformed, valid_message("resp_ok", "survived the garbage")]}]))
        .await;
    let done = turn(&mut server, &thread, "first").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(agent_text(&done), ["survived the garbage"]);

    mock.enqueue(json!([{"type": "raw", "chunks": [malformed]}]))
        .await;
    let done = turn(&mut server, &thread, "second").await;
    assert_failed_clearly(&done);
    next_turn_works(&mock, &mut server, &thread).await;
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_after_garbage_are_read() {
    let (_home, mock, mut server, thread) = setup(&[]).await;
    let garbage = "HTTP/1.1 200 OK\r\nnot a field at all\n\u{1}\u{2}\u{7f} binary-ish\n: a comment\nretry: 10\nid: 3\n\n";
    mock.enqueue(json!([{"type": "raw",
        "chunks": [garbage, valid_message("resp_after", "found it"), "trailing garbage\n"]}]))
        .await;
    let done = turn(&mut server, &thread, "look past it").await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(agent_text(&done), ["found it"]);
    next_turn_works(&mock, &mut server, &thread).await;
    assert_eq!(server.close().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_goes_silent_fails_after_the_idle_timeout() {
    let (_home, mock, mut server, thread) =
        setup(&["model_providers.mock.stream_idle_timeout_ms=500"]).await;
    mock.enqueue(json!([{"type": "idle", "events": [
        {"event": "response.created", "data": {"type": "response.created", "response": {"id": "r"}}}
    ]}]))
    .await;
    let done = turn(&mut server, &thread, "are you there?").await;
    assert_failed_clearly(&done);
    next_turn_works(&mock, &mut server, &thread).await;
    assert_eq!(server.close().await.code(), Some(0));
}
