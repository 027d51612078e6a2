//! Both retry layers: HTTP 5xx/429 and transport errors (request layer), dropped streams,
//! idle timeouts and `response.failed` (stream layer), and the errors when retries run out.

use std::time::Duration;

use codex_mock_model::{self as mock, MockServer, Reply};
use codex_model::{ModelError, ResponseEvent};

use super::{client, collect, final_text, provider, request, retrying};

#[tokio::test]
async fn server_error_then_success() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::status(500, "upstream exploded"));
    server.enqueue(mock::assistant_message("r2", "recovered"));
    let mut info = provider(&server.url());
    info.request_max_retries = Some(2);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    let retries = retrying(&events);
    assert_eq!(retries.len(), 1);
    let (attempt, max, message, status) = &retries[0];
    assert_eq!((*attempt, *max, *status), (1, 2, Some(500)));
    assert!(message.contains("upstream exploded"), "{message}");
    assert!(matches!(events[0], ResponseEvent::Retrying { .. }));
    assert_eq!(final_text(&events), "recovered");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn too_many_requests_honours_retry_after() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::Status {
        status: 429,
        body: r#"{"error":{"type":"rate_limit_exceeded","message":"slow down"}}"#.into(),
        retry_after: Some("1".into()),
    });
    server.enqueue(mock::assistant_message("r2", "ok"));
    let mut info = provider(&server.url());
    info.request_max_retries = Some(1);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(retrying(&events)[0].3, Some(429));
    let requests = server.requests();
    let gap = requests[1].received_at - requests[0].received_at;
    // Without Retry-After the first backoff would be ~200 ms.
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_body() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::status(
        400,
        r#"{"error":{"message":"invalid 'input'"}}"#,
    ));
    server.enqueue(mock::assistant_message("r2", "never"));
    let mut info = provider(&server.url());
    info.request_max_retries = Some(3);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(events.is_empty());
    match err {
        Some(ModelError::Http { status, message }) => {
            assert_eq!(status, 400);
            assert!(message.contains("invalid 'input'"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.pending_replies(), 1);
}

#[tokio::test]
async fn server_errors_exhaust_request_retries() {
    let server = MockServer::start().await.unwrap();
    for _ in 0..3 {
        server.enqueue(Reply::status(503, "overloaded"));
    }
    let mut info = provider(&server.url());
    info.request_max_retries = Some(2);
    let (events, err) = collect(client(info).stream(request())).await;
    assert_eq!(retrying(&events).len(), 2);
    match err {
        Some(ModelError::RetryLimit {
            attempts,
            last,
            http_status,
        }) => {
            assert_eq!((attempts, http_status), (3, Some(503)));
            assert!(last.contains("overloaded"), "{last}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_endpoint_fails_after_configured_attempts() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut info = provider(&format!("http://127.0.0.1:{port}/v1"));
    info.request_max_retries = Some(2);
    let (events, err) = collect(client(info).stream(request())).await;
    let retries = retrying(&events);
    assert_eq!(retries.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2]);
    assert!(retries.iter().all(|r| r.3.is_none()));
    match err {
        Some(ModelError::RetryLimit {
            attempts,
            last,
            http_status,
        }) => {
            assert_eq!((attempts, http_status), (3, None));
            assert!(last.to_lowercase().contains("connect"), "{last}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn dropped_stream_is_retried_and_partial_output_superseded() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::DropAfter {
        events: vec![
            mock::ev_created("r1"),
            mock::ev_output_text_delta("msg_r1", "partial"),
        ],
    });
    server.enqueue(mock::assistant_message("r2", "complete answer"));
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(1);
    let model = client(info);
    let (events, err) = collect(model.stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    let retries = retrying(&events);
    assert_eq!(retries.len(), 1);
    assert_eq!((retries[0].0, retries[0].1, retries[0].3), (1, 1, None));
    assert!(
        retries[0]
            .2
            .starts_with("stream disconnected before completion"),
        "{}",
        retries[0].2
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, ResponseEvent::OutputTextDelta { delta, .. } if delta == "partial")));
    assert_eq!(final_text(&events), "complete answer");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "the same body is re-sent"
    );
}

#[tokio::test]
async fn eof_before_completed_exhausts_stream_retries() {
    let server = MockServer::start().await.unwrap();
    // A well-formed body that simply lacks response.completed.
    server.enqueue(Reply::Sse(vec![mock::ev_created("r1")]));
    let (events, err) = collect(client(provider(&server.url())).stream(request())).await;
    assert_eq!(events.len(), 1);
    match err {
        Some(ModelError::RetryLimit { attempts, last, .. }) => {
            assert_eq!(attempts, 1);
            assert_eq!(
                last,
                "stream disconnected before completion: stream closed before response.completed"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn idle_stream_times_out_and_retries() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(Reply::Idle {
        events: vec![mock::ev_created("r1")],
    });
    server.enqueue(mock::assistant_message("r2", "after idle"));
    let mut info = provider(&server.url());
    info.stream_idle_timeout_ms = Some(500);
    info.stream_max_retries = Some(1);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    let retries = retrying(&events);
    assert_eq!(retries.len(), 1);
    assert!(
        retries[0].2.contains("idle timeout waiting for SSE"),
        "{}",
        retries[0].2
    );
    assert_eq!(final_text(&events), "after idle");
    // The client hung up on the silent stream.
    server
        .wait_for_aborted_streams(1, Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn retryable_response_failed_is_retried() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::response_failed(
        "r1",
        "server_error",
        "the model had a hiccup",
    ));
    server.enqueue(mock::assistant_message("r2", "second try"));
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(2);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    let retries = retrying(&events);
    assert_eq!(retries.len(), 1);
    assert_eq!(
        retries[0].2,
        "stream disconnected before completion: the model had a hiccup"
    );
    assert_eq!(final_text(&events), "second try");
}

#[tokio::test]
async fn rate_limited_response_failed_waits_as_told() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::response_failed(
        "r1",
        "rate_limit_exceeded",
        "Rate limit reached. Please try again in 700ms.",
    ));
    server.enqueue(mock::assistant_message("r2", "ok"));
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(1);
    let (_, err) = collect(client(info).stream(request())).await;
    assert!(err.is_none(), "{err:?}");
    let requests = server.requests();
    let gap = requests[1].received_at - requests[0].received_at;
    assert!(gap >= Duration::from_millis(650), "retried after {gap:?}");
}

#[tokio::test]
async fn context_length_exceeded_is_not_retried() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::response_failed(
        "r1",
        "context_length_exceeded",
        "Your input exceeds the context window",
    ));
    server.enqueue(mock::assistant_message("r2", "never"));
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(3);
    let (events, err) = collect(client(info).stream(request())).await;
    assert!(retrying(&events).is_empty());
    assert!(
        matches!(err, Some(ModelError::ContextWindowExceeded(ref m)) if m.contains("context window")),
        "{err:?}"
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(server.pending_replies(), 1);
}

#[tokio::test]
async fn persistent_response_failed_reports_retry_limit() {
    let server = MockServer::start().await.unwrap();
    for i in 0..2 {
        server.enqueue(mock::response_failed(
            &format!("r{i}"),
            "server_error",
            "still broken",
        ));
    }
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(1);
    let (_, err) = collect(client(info).stream(request())).await;
    let err = err.expect("an error");
    assert_eq!(
        err.to_string(),
        "stream disconnected before completion: still broken (gave up after 2 attempts)"
    );
    assert!(matches!(
        err,
        ModelError::RetryLimit {
            attempts: 2,
            http_status: None,
            ..
        }
    ));
}

#[tokio::test]
async fn insufficient_quota_is_final() {
    let server = MockServer::start().await.unwrap();
    server.enqueue(mock::response_failed(
        "r1",
        "insufficient_quota",
        "You exceeded your quota",
    ));
    let mut info = provider(&server.url());
    info.stream_max_retries = Some(3);
    let (_, err) = collect(client(info).stream(request())).await;
    assert!(matches!(err, Some(ModelError::QuotaExceeded(_))), "{err:?}");
}
