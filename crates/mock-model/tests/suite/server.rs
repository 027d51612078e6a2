//! The library server: replies, captures, the control surface, keep-alive, gates.

use std::sync::Arc;
use std::time::Duration;

use codex_mock_model::{self as mock, MockServer, Reply, ReplySpec};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::http;

#[tokio::test]
async fn serves_queued_sse_and_records_the_request() {
    let server = MockServer::start().await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:") && server.url().ends_with("/v1"));
    server.enqueue(mock::assistant_message("resp_7", "Hello"));
    let (status, text) = http(
        server.addr(),
        "POST",
        "/v1/responses?x=1",
        r#"{"model":"m"}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert!(text.contains("transfer-encoding: chunked"));
    assert!(text.contains("event: response.created"));
    assert!(text.contains("\"delta\":\"He\""));
    assert!(text.contains("event: response.completed"));
    assert!(text.ends_with("0\r\n\r\n"));
    let requests = server
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/v1/responses");
    assert_eq!(requests[0].query.as_deref(), Some("x=1"));
    assert_eq!(requests[0].header("X-Test"), Some("yes"));
    assert_eq!(requests[0].body, json!({"model": "m"}));
}

#[tokio::test]
async fn empty_queue_is_a_clear_500_unless_a_default_is_set() {
    let server = MockServer::start().await.unwrap();
    let (status, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
    assert_eq!(status, 500);
    assert!(
        text.contains("no reply queued for POST /v1/responses"),
        "{text}"
    );
    server.set_default(Some(mock::assistant_message("d", "default")));
    for _ in 0..2 {
        let (status, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
        assert_eq!(status, 200);
        assert!(text.contains("response.completed"));
    }
}

#[tokio::test]
async fn status_reply_with_retry_after() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::Status {
        status: 429,
        body: "slow down".into(),
        retry_after: Some("2".into()),
    });
    let (status, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
    assert_eq!(status, 429);
    assert!(text.contains("retry-after: 2\r\n"));
    assert!(text.ends_with("slow down"));
}

#[tokio::test]
async fn control_surface_enqueue_requests_models() {
    let server = MockServer::start().await.unwrap();
    let specs = json!([
        {"type": "function_call", "call_id": "c1", "name": "shell", "arguments": {"cmd": "ls"}},
        {"type": "message", "text": "hi"}
    ]);
    let (status, text) = http(server.addr(), "POST", "/_mock/enqueue", &specs.to_string()).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(server.pending_replies(), 2);
    let (_, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
    assert!(text.contains(r#"\"cmd\":\"ls\""#), "{text}");
    assert!(text.contains("\"id\":\"resp_1\""));
    let (status, _) = http(
        server.addr(),
        "POST",
        "/_mock/enqueue",
        r#"{"type":"nope"}"#,
    )
    .await;
    assert_eq!(status, 400);
    let (_, text) = http(server.addr(), "POST", "/_mock/models", r#"[{"id":"m1"}]"#).await;
    assert!(text.starts_with("HTTP/1.1 200"));
    let (_, text) = http(server.addr(), "GET", "/v1/models", "").await;
    assert!(
        text.ends_with(r#"{"data":[{"id":"m1"}],"object":"list"}"#),
        "{text}"
    );
    let (_, text) = http(server.addr(), "GET", "/_mock/requests", "").await;
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let captured: Vec<Value> = serde_json::from_str(body).unwrap();
    // Control requests are not recorded.
    assert_eq!(captured.len(), 2);
    assert_eq!(captured[0]["path"], "/v1/responses");
    assert_eq!(captured[1]["path"], "/v1/models");
    let (_, text) = http(server.addr(), "GET", "/_mock/stats", "").await;
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    let stats: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        stats,
        serde_json::json!({"requests": 2, "aborted_streams": 0, "gates_reached": 0, "pending_replies": 1})
    );
    // `wait` answers at once when the counts are reached, and with 408 when they never are.
    let (status, _) = http(server.addr(), "POST", "/_mock/wait", r#"{"requests": 2}"#).await;
    assert_eq!(status, 200);
    let (status, text) = http(
        server.addr(),
        "POST",
        "/_mock/wait",
        r#"{"requests": 3, "timeout_ms": 50}"#,
    )
    .await;
    assert_eq!(status, 408, "{text}");
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let server = MockServer::start().await.unwrap();
    server.set_default(Some(Reply::status(200, "{}")));
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    for _ in 0..3 {
        stream
            .write_all(b"POST /v1/responses HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            .await
            .unwrap();
        // Head and body may arrive in separate reads; the response is complete once the
        // 2-byte body follows the blank line.
        let mut got = Vec::new();
        while !got.ends_with(b"\r\n\r\n{}") {
            let mut buf = [0u8; 512];
            let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(
                n > 0,
                "connection closed: {}",
                String::from_utf8_lossy(&got)
            );
            got.extend_from_slice(&buf[..n]);
        }
        assert!(got.starts_with(b"HTTP/1.1 200 OK"));
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].body, json!({}));
}

#[tokio::test]
async fn gated_reply_waits_for_the_gate_and_detects_hangups() {
    let server = MockServer::start().await.unwrap();
    let gate = Arc::new(Notify::new());
    let gated = |gate: &Arc<Notify>| Reply::Gated {
        before: vec![mock::ev_created("g")],
        gate: Arc::clone(gate),
        after: vec![mock::ev_completed("g", mock::Usage::default())],
    };
    server.enqueue(gated(&gate));
    server.enqueue(gated(&gate));

    // First: released while waiting, so the body completes.
    let mut stream = BufReader::new(TcpStream::connect(server.addr()).await.unwrap());
    stream
        .get_mut()
        .write_all(b"POST /v1/responses HTTP/1.1\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut seen = String::new();
    while !seen.contains("response.created") {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        seen.push_str(&line);
    }
    gate.notify_one();
    while !seen.ends_with("0\r\n\r\n") {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        seen.push_str(&line);
    }
    assert!(seen.contains("response.completed"));

    // Second: the client hangs up at the gate.
    stream
        .get_mut()
        .write_all(b"POST /v1/responses HTTP/1.1\r\ncontent-length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    drop(stream);
    server
        .wait_for_aborted_streams(1, Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn wait_control_blocks_until_requests_arrive_and_gates_are_reached() {
    let server = MockServer::start().await.unwrap();
    let addr = server.addr();
    let (status, text) = http(
        addr,
        "POST",
        "/_mock/enqueue",
        r#"{"type":"gated","before":[{"event":"response.created","data":{}}],"after":[]}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let waiter = tokio::spawn(async move {
        http(
            addr,
            "POST",
            "/_mock/wait",
            r#"{"requests":1,"gates_reached":1,"timeout_ms":10000}"#,
        )
        .await
    });
    let client = tokio::spawn(async move { http(addr, "POST", "/v1/responses", "{}").await });
    let (status, text) = waiter.await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains(r#""gates_reached":1"#), "{text}");
    assert_eq!(server.gates_reached(), 1);
    server.release();
    let (status, text) = client.await.unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("response.created"));

    let (status, text) = http(
        addr,
        "POST",
        "/_mock/wait",
        r#"{"gates_reached":2,"timeout_ms":50}"#,
    )
    .await;
    assert_eq!(status, 408, "{text}");
    assert!(text.contains("gated streams at their gate"), "{text}");
    server
        .wait_for_gates_reached(1, Duration::from_millis(10))
        .await
        .unwrap();
}

#[tokio::test]
async fn wait_for_requests_times_out_with_a_reason() {
    let server = MockServer::start().await.unwrap();
    let err = server
        .wait_for_requests(1, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!((err.wanted, err.got), (1, 0));
    assert!(err.to_string().contains("waiting for 1 requests"));
}

#[test]
fn reply_specs_build_deterministic_replies() {
    let gate = Arc::new(Notify::new());
    let spec: ReplySpec = serde_json::from_value(
        json!({"type": "message", "deltas": ["a", "b"], "response_id": "r"}),
    )
    .unwrap();
    let Reply::Sse(events) = spec.into_reply(|| unreachable!(), &gate) else {
        panic!("expected sse");
    };
    let deltas: Vec<&str> = events
        .iter()
        .filter(|e| e.event == "response.output_text.delta")
        .map(|e| e.data["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, ["a", "b"]);
    assert_eq!(events.last().unwrap().data["response"]["id"], "r");
    assert_eq!(mock::split_text("abcdefg", 3), ["abc", "def", "g"]);
    assert_eq!(mock::split_text("ab", 5), ["a", "b"]);
}

#[tokio::test]
async fn raw_spec_writes_its_chunks_verbatim_with_its_content_type() {
    let server = MockServer::start().await.unwrap();
    let specs = json!([
        {"type": "raw", "content_type": "text/html", "chunks": ["<html>", "not SSE</html>"]},
        {"type": "raw", "chunks": ["garbage\n\n", "data: {not json\n\n"]}
    ]);
    let (status, text) = http(server.addr(), "POST", "/_mock/enqueue", &specs.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let (status, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
    assert_eq!(status, 200);
    assert!(text.contains("content-type: text/html\r\n"), "{text}");
    assert!(
        text.contains("<html>") && text.contains("not SSE</html>"),
        "{text}"
    );
    let (_, text) = http(server.addr(), "POST", "/v1/responses", "{}").await;
    assert!(
        text.contains("content-type: text/event-stream\r\n"),
        "{text}"
    );
    assert!(
        text.contains("garbage\n\n") && text.contains("data: {not json\n\n"),
        "{text}"
    );
}

#[tokio::test]
async fn bodies_can_be_forgotten_keeping_only_their_size() {
    let server = MockServer::start().await.unwrap();
    server.set_default(Some(mock::assistant_message("r", "ok")));
    let (status, _) = http(server.addr(), "POST", "/_mock/keep_bodies", "false").await;
    assert_eq!(status, 200);
    http(
        server.addr(),
        "POST",
        "/v1/responses",
        r#"{"input":"long"}"#,
    )
    .await;
    let (status, _) = http(server.addr(), "POST", "/_mock/keep_bodies", "true").await;
    assert_eq!(status, 200);
    http(
        server.addr(),
        "POST",
        "/v1/responses",
        r#"{"input":"kept"}"#,
    )
    .await;
    let requests = server.requests();
    assert_eq!(requests[0].body, json!({"omitted_bytes": 16}));
    assert_eq!(requests[1].body, json!({"input": "kept"}));
    let (status, _) = http(server.addr(), "POST", "/_mock/keep_bodies", "3").await;
    assert_eq!(status, 400);
}
