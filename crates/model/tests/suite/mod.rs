//! Shared helpers: providers pointed at the mock server and event collection with timeouts.

mod auth;
mod retries;
mod streaming;

use std::time::Duration;

use codex_model::{ModelClient, ModelError, ProviderInfo, ResponseEvent, ResponsesRequest};
use serde_json::json;
use tokio::sync::mpsc::Receiver;

pub fn provider(base_url: &str) -> ProviderInfo {
    ProviderInfo {
        id: "mock".to_string(),
        base_url: Some(base_url.to_string()),
        request_max_retries: Some(0),
        stream_max_retries: Some(0),
        ..ProviderInfo::default()
    }
}

pub fn request() -> ResponsesRequest {
    ResponsesRequest {
        body: json!({"model": "mock-model", "stream": true, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}
        ]}),
        headers: Vec::new(),
    }
}

pub fn client(provider: ProviderInfo) -> ModelClient {
    ModelClient::new(provider, Some("sk-test".to_string())).unwrap()
}

/// Drains the stream: every event, then the terminal error if any. Bounded by a timeout.
pub async fn collect(
    mut rx: Receiver<Result<ResponseEvent, ModelError>>,
) -> (Vec<ResponseEvent>, Option<ModelError>) {
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("stream stalled");
        match next {
            None => return (events, None),
            Some(Ok(event)) => events.push(event),
            Some(Err(err)) => {
                // Exactly one error ends the stream.
                let after = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                    .await
                    .expect("stream not closed after the error");
                assert!(
                    after.is_none(),
                    "events after the terminal error: {after:?}"
                );
                return (events, Some(err));
            }
        }
    }
}

/// Text of the deltas after the last `Retrying` (what a consumer keeps).
pub fn final_text(events: &[ResponseEvent]) -> String {
    let start = events
        .iter()
        .rposition(|e| matches!(e, ResponseEvent::Retrying { .. }))
        .map_or(0, |i| i + 1);
    events[start..]
        .iter()
        .filter_map(|e| match e {
            ResponseEvent::OutputTextDelta { delta, .. } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

pub fn retrying(events: &[ResponseEvent]) -> Vec<(u32, u32, String, Option<u16>)> {
    events
        .iter()
        .filter_map(|e| match e {
            ResponseEvent::Retrying {
                attempt,
                max,
                message,
                http_status,
            } => Some((*attempt, *max, message.clone(), *http_status)),
            _ => None,
        })
        .collect()
}
