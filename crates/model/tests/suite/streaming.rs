//! Happy paths against the mock: text stream, usage, tool calls, headers/query, models,
//! cancellation by dropping the receiver, and the chat wire adapter.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use codex_mock_model::{self as mock, MockServer, Reply};
use codex_model::{ModelError, ResponseEvent, ResponsesRequest, TokenUsage, WireApi};
use serde_json::json;
use tokio::sync::Notify;

use super::{client, collect, final_text, provider, request};

#[tokio::test]
async fn text_stream_with_usage() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::assistant_message("resp_1", "Hello there, world"));
    let (events, err) = collect(client(provider(&server.url())).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        events[0],
        ResponseEvent::Created {
            response_id: Some("resp_1".into())
        }
    );
    assert!(
        matches!(&events[1], ResponseEvent::OutputItemAdded(item) if item["type"] == "message")
    );
    assert_eq!(final_text(&events), "Hello there, world");
    let deltas = events
        .iter()
        .filter(|e| matches!(e, ResponseEvent::OutputTextDelta { item_id: Some(id), .. } if id == "msg_resp_1"))
        .count();
    assert_eq!(deltas, 3);
    let done = events
        .iter()
        .find_map(|e| match e {
            ResponseEvent::OutputItemDone(item) => Some(item.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(done["content"][0]["text"], "Hello there, world");
    assert_eq!(
        events.last(),
        Some(&ResponseEvent::Completed {
            response_id: Some("resp_1".into()),
            usage: Some(TokenUsage {
                input_tokens: 120,
                cached_input_tokens: 20,
                output_tokens: 7,
                reasoning_output_tokens: 0,
                total_tokens: 127
            })
        })
    );
}

#[tokio::test]
async fn function_and_custom_tool_calls() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::function_call(
        "r1",
        "call_1",
        "shell",
        &json!({"command": ["ls"]}),
    ));
    server.enqueue(mock::custom_tool_call(
        "r2",
        "call_2",
        "apply_patch",
        "*** Begin Patch\n*** End Patch",
    ));
    let model = client(provider(&server.url()));
    let (events, err) = collect(model.stream(request())).await;
    assert!(err.is_none());
    let item = events
        .iter()
        .find_map(|e| match e {
            ResponseEvent::OutputItemDone(item) => Some(item.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["call_id"], "call_1");
    assert_eq!(item["arguments"], "{\"command\":[\"ls\"]}");
    let (events, _) = collect(model.stream(request())).await;
    assert!(events.iter().any(|e| matches!(e, ResponseEvent::OutputItemDone(item)
        if item["type"] == "custom_tool_call" && item["input"] == "*** Begin Patch\n*** End Patch")));
}

#[tokio::test]
async fn headers_query_and_body_are_sent() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::assistant_message("r1", "ok"));
    std::env::set_var("CODEX_MODEL_TEST_ORG", "org-42");
    let mut info = provider(&server.url());
    info.query_params = BTreeMap::from([("api-version".into(), "2025-04-01".into())]);
    info.http_headers = BTreeMap::from([("x-static".into(), "static-value".into())]);
    info.env_http_headers = BTreeMap::from([
        ("OpenAI-Organization".into(), "CODEX_MODEL_TEST_ORG".into()),
        ("x-absent".into(), "CODEX_MODEL_TEST_UNSET_VARIABLE".into()),
    ]);
    let mut req = request();
    req.headers = vec![
        ("originator".into(), "codex_test".into()),
        ("session-id".into(), "thread-1".into()),
    ];
    let body = req.body.clone();
    let (_, err) = collect(client(info).stream(req)).await;
    assert!(err.is_none());
    let captured = server
        .wait_for_requests(1, Duration::from_secs(5))
        .await
        .unwrap();
    let r = &captured[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/v1/responses")
    );
    assert_eq!(r.query.as_deref(), Some("api-version=2025-04-01"));
    assert_eq!(r.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(r.header("accept"), Some("text/event-stream"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("x-static"), Some("static-value"));
    assert_eq!(r.header("openai-organization"), Some("org-42"));
    assert_eq!(r.header("x-absent"), None);
    assert_eq!(r.header("originator"), Some("codex_test"));
    assert_eq!(r.header("session-id"), Some("thread-1"));
    assert_eq!(r.body, body);
}

#[tokio::test]
async fn no_authorization_without_key() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::assistant_message("r1", "ok"));
    let model = codex_model::ModelClient::new(provider(&server.url()), None).unwrap();
    let (_, err) = collect(model.stream(request())).await;
    assert!(err.is_none());
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn list_models_returns_data_entries() {
    let server = MockServer::start().await.unwrap();
    server.set_models(vec![
        json!({"id": "gpt-a", "object": "model"}),
        json!({"id": "gpt-b"}),
        json!({"no": "id"}),
    ]);
    let models = client(provider(&server.url())).list_models().await.unwrap();
    let ids: Vec<&str> = models.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["gpt-a", "gpt-b"]);
    let r = &server.requests()[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/v1/models"));
    assert_eq!(r.header("authorization"), Some("Bearer sk-test"));
}

#[tokio::test]
async fn dropping_the_receiver_closes_the_connection() {
    let server = MockServer::start().await.unwrap();
    let gate = Arc::new(Notify::new());
    server.enqueue(Reply::Gated {
        before: vec![
            mock::ev_created("r1"),
            mock::ev_output_text_delta("msg_r1", "Hel"),
        ],
        gate: Arc::clone(&gate),
        after: vec![mock::ev_completed("r1", mock::Usage::default())],
    });
    let mut rx = client(provider(&server.url())).stream(request());
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if matches!(event, ResponseEvent::OutputTextDelta { .. }) {
            break;
        }
    }
    assert_eq!(server.aborted_streams(), 0);
    drop(rx);
    server
        .wait_for_aborted_streams(1, Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn chat_wire_is_adapted() {
    let server = MockServer::start().await.unwrap();
    let chunk = |v: serde_json::Value| format!("data: {v}\n\n");
    server.enqueue(Reply::Raw {
        content_type: "text/event-stream".into(),
        chunks: vec![
            chunk(json!({"id": "cc-1", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]})),
            chunk(json!({"id": "cc-1", "choices": [{"index": 0, "delta": {"content": " there"}, "finish_reason": "stop"}]})),
            chunk(json!({"id": "cc-1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}})),
            "data: [DONE]\n\n".into(),
        ],
    });
    let mut info = provider(&server.url());
    info.wire_api = WireApi::Chat;
    let mut req = request();
    req.body["instructions"] = json!("be nice");
    let (events, err) = collect(client(info).stream(req)).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(final_text(&events), "Hi there");
    assert!(
        matches!(events.last(), Some(ResponseEvent::Completed { usage: Some(u), .. }) if u.total_tokens == 5)
    );
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.body["messages"][0],
        json!({"role": "system", "content": "be nice"})
    );
    assert_eq!(
        r.body["messages"][1],
        json!({"role": "user", "content": "Say hello."})
    );
}

#[tokio::test]
async fn sse_edge_cases_over_the_wire() {
    // CRLF line ends, a comment, an unknown event, garbage data, an event split across chunks.
    let server = MockServer::start().await.unwrap();
    let delta = json!({"type": "response.output_text.delta", "item_id": "m", "delta": "héllo 🎉"})
        .to_string();
    let completed = mock::ev_completed("r1", mock::Usage::default()).to_wire();
    // Chunks are strings, so split UTF-8 sequences are covered by the parser unit tests; here
    // the chunk boundary falls inside the JSON of an event.
    let (first, second) = delta.split_at(10);
    server.enqueue(Reply::Raw {
        content_type: "text/event-stream".into(),
        chunks: vec![
            ": ping\r\n\r\n".into(),
            "event: response.in_progress\r\ndata: {\"type\":\"response.in_progress\"}\r\n\r\n"
                .into(),
            "data: {not json\r\n\r\n".into(),
            format!("event: response.output_text.delta\r\ndata: {first}"),
            format!("{second}\r\n\r\n"),
            completed,
        ],
    });
    let (events, err) = collect(client(provider(&server.url())).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(final_text(&events), "héllo 🎉");
    assert!(matches!(
        events.last(),
        Some(ResponseEvent::Completed { .. })
    ));
}

#[tokio::test]
async fn invalid_request_header_is_a_config_error() {
    let server = MockServer::start().await.unwrap();
    let req = ResponsesRequest {
        body: json!({}),
        headers: vec![("bad header".into(), "x".into())],
    };
    let (events, err) = collect(client(provider(&server.url())).stream(req)).await;
    assert!(events.is_empty());
    assert!(matches!(err, Some(ModelError::Config(_))), "{err:?}");
    assert!(server.requests().is_empty());
}
