//! [`ModelClient`]: sends one model request in a spawned task and streams [`ResponseEvent`]s
//! back through a bounded channel.
//!
//! Two retry layers live here. The request layer retries connect/transport failures, 5xx and
//! 429 (honouring `Retry-After`) up to `request_max_retries`; exhausting it ends the request.
//! The stream layer re-sends the same body when an accepted stream breaks (EOF before
//! completion, transport error, idle timeout, retryable `response.failed`) up to
//! `stream_max_retries`. Each retry is announced with [`ResponseEvent::Retrying`].
//! Dropping the receiver cancels: the task races everything against `tx.closed()`, and
//! dropping the in-flight response closes the connection.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::chat;
use crate::error::{truncate_body, ModelError};
use crate::events::{decode_responses_frame, Decoded, ResponseEvent};
use crate::provider::{ProviderInfo, WireApi};
use crate::retry::{backoff, parse_retry_after};
use crate::sse::{SseFrame, SseParser};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const LIST_MODELS_TIMEOUT: Duration = Duration::from_secs(10);
/// Events buffered between the request task and the consumer.
const CHANNEL_CAPACITY: usize = 256;
/// How long the task keeps reading after `response.completed` so the connection can be reused.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// One model request: the JSON body built by the caller and extra per-request headers
/// (`originator`, `session-id`, `user-agent`, ...), which override provider headers.
#[derive(Clone, Debug, Default)]
pub struct ResponsesRequest {
    pub body: Value,
    pub headers: Vec<(String, String)>,
}

/// Receiver of a streaming request; ends after `Completed` or one `Err`.
pub type ResponseStream = mpsc::Receiver<Result<ResponseEvent, ModelError>>;

/// HTTP client bound to one provider and API key. Cheap to clone.
#[derive(Clone, Debug)]
pub struct ModelClient {
    http: reqwest::Client,
    provider: Arc<ProviderInfo>,
    /// Authorization + provider headers, resolved once.
    base_headers: HeaderMap,
}

enum Consumed {
    /// `Completed` was delivered; the response is returned so its tail can be drained.
    Completed(reqwest::Response),
    /// The receiver is gone.
    Cancelled,
    Failed(ModelError, Option<Duration>),
}

enum Flow {
    Continue,
    Done,
    Cancelled,
    Failed(ModelError, Option<Duration>),
}

/// Per-wire decoding of SSE frames.
enum Decoder {
    Responses,
    Chat(chat::ChatDecoder),
}

impl Decoder {
    fn new(wire: WireApi) -> Self {
        match wire {
            WireApi::Responses => Decoder::Responses,
            WireApi::Chat => Decoder::Chat(chat::ChatDecoder::default()),
        }
    }

    fn frame(&mut self, frame: &SseFrame) -> Vec<Decoded> {
        match self {
            Decoder::Responses => decode_responses_frame(frame).into_iter().collect(),
            Decoder::Chat(decoder) => decoder.frame(frame),
        }
    }

    fn eof(&mut self) -> Vec<Decoded> {
        match self {
            Decoder::Responses => Vec::new(),
            Decoder::Chat(decoder) => decoder.eof(),
        }
    }
}

fn header_pair(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), ModelError> {
    let header = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ModelError::Config(format!("invalid header name {name:?}")))?;
    let value = HeaderValue::from_str(value)
        .map_err(|_| ModelError::Config(format!("invalid value for header {name}")))?;
    Ok((header, value))
}

/// Whether the URL points at this machine (then system proxies must not be used).
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The error and its causes on one line ("error sending request ...: tcp connect error: Connection refused").
fn describe(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Decides what a non-success status means. `Ok` = retryable at the request layer.
fn classify_status(status: StatusCode, body: &str) -> Result<ModelError, ModelError> {
    let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = parsed.get("error").unwrap_or(&Value::Null);
    let field = |key: &str| error.get(key).and_then(Value::as_str).unwrap_or_default();
    let kind = [field("type"), field("code")];
    let message = Some(field("message"))
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| truncate_body(body));
    let http = ModelError::Http {
        status: status.as_u16(),
        message: if body.trim().is_empty() {
            status.canonical_reason().unwrap_or("no body").to_string()
        } else {
            truncate_body(body)
        },
    };
    if kind.contains(&"context_length_exceeded") {
        return Err(ModelError::ContextWindowExceeded(message));
    }
    if kind.contains(&"insufficient_quota") {
        return Err(ModelError::QuotaExceeded(message));
    }
    if kind.contains(&"usage_not_included") {
        return Err(ModelError::UsageNotIncluded);
    }
    if kind.contains(&"usage_limit_reached") {
        return Err(ModelError::UsageLimitReached(message));
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        Ok(http)
    } else {
        Err(http)
    }
}

async fn read_error_body(response: reqwest::Response) -> String {
    match tokio::time::timeout(CONNECT_TIMEOUT, response.text()).await {
        Ok(Ok(text)) => text,
        Ok(Err(err)) => format!("(failed to read the response body: {})", describe(&err)),
        Err(_) => "(timed out reading the response body)".to_string(),
    }
}

impl ModelClient {
    /// Builds the HTTP client (rustls, 10 s connect timeout, no overall timeout).
    pub fn new(provider: ProviderInfo, api_key: Option<String>) -> Result<Self, ModelError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true);
        if is_loopback(&provider.base_url()) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| {
            ModelError::Config(format!("cannot build HTTP client: {}", describe(&e)))
        })?;
        let mut base_headers = HeaderMap::new();
        for (name, value) in provider.resolved_headers() {
            let (name, value) = header_pair(&name, &value)?;
            base_headers.insert(name, value);
        }
        if let Some(key) = api_key.filter(|k| !k.is_empty()) {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                ModelError::Config("the API key contains invalid characters".to_string())
            })?;
            value.set_sensitive(true);
            base_headers.insert(AUTHORIZATION, value);
        }
        Ok(ModelClient {
            http,
            provider: Arc::new(provider),
            base_headers,
        })
    }

    pub fn provider(&self) -> &ProviderInfo {
        &self.provider
    }

    /// Starts the request in a spawned task (call from within a tokio runtime) and returns the
    /// event receiver. The stream ends after `Completed` or after exactly one `Err`.
    /// Dropping the receiver cancels the request and closes its connection.
    pub fn stream(&self, request: ResponsesRequest) -> ResponseStream {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let this = self.clone();
        tokio::spawn(async move {
            let tail = tokio::select! {
                _ = tx.closed() => None,
                tail = this.run(request, &tx) => tail,
            };
            drop(tx);
            if let Some(mut response) = tail {
                let drain = async { while let Ok(Some(_)) = response.chunk().await {} };
                let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
            }
        });
        rx
    }

    /// `GET {base_url}/models` (10 s timeout): the raw entries of `data` (objects with an `id`).
    pub async fn list_models(&self) -> Result<Vec<Value>, ModelError> {
        let url = format!("{}/models", self.provider.base_url());
        let mut builder = self
            .http
            .get(&url)
            .headers(self.base_headers.clone())
            .header(ACCEPT, "application/json");
        if !self.provider.query_params.is_empty() {
            builder = builder.query(&self.provider.query_params);
        }
        let fetch = async {
            let response = builder
                .send()
                .await
                .map_err(|e| ModelError::Transport(describe(&e)))?;
            let status = response.status();
            if !status.is_success() {
                let body = read_error_body(response).await;
                return Err(classify_status(status, &body).unwrap_or_else(|e| e));
            }
            response
                .json::<Value>()
                .await
                .map_err(|e| ModelError::InvalidResponse(describe(&e)))
        };
        let value = tokio::time::timeout(LIST_MODELS_TIMEOUT, fetch)
            .await
            .map_err(|_| {
                ModelError::Transport(format!("GET {url} timed out after {LIST_MODELS_TIMEOUT:?}"))
            })??;
        let data = value.get("data").and_then(Value::as_array).ok_or_else(|| {
            ModelError::InvalidResponse("models response has no `data` array".to_string())
        })?;
        Ok(data
            .iter()
            .filter(|entry| entry.get("id").is_some_and(Value::is_string))
            .cloned()
            .collect())
    }

    /// The whole request with both retry layers. Returns the completed response for draining.
    async fn run(
        &self,
        request: ResponsesRequest,
        tx: &mpsc::Sender<Result<ResponseEvent, ModelError>>,
    ) -> Option<reqwest::Response> {
        let wire = self.provider.wire_api;
        let prepared = self.prepare(request, wire);
        let (url, headers, body) = match prepared {
            Ok(parts) => parts,
            Err(err) => {
                let _ = tx.send(Err(err)).await;
                return None;
            }
        };
        let max = self.provider.stream_retries();
        let mut retries = 0;
        loop {
            let response = match self.connect(&url, &headers, &body, tx).await {
                Ok(response) => response,
                Err(Some(err)) => {
                    let _ = tx.send(Err(err)).await;
                    return None;
                }
                Err(None) => return None,
            };
            let (err, delay) = match self.consume(response, wire, tx).await {
                Consumed::Completed(response) => return Some(response),
                Consumed::Cancelled => return None,
                Consumed::Failed(err, delay) => (err, delay),
            };
            if !err.is_retryable() {
                let _ = tx.send(Err(err)).await;
                return None;
            }
            let last = format!("stream disconnected before completion: {err}");
            if retries >= max {
                let _ = tx
                    .send(Err(ModelError::RetryLimit {
                        attempts: retries + 1,
                        last,
                        http_status: None,
                    }))
                    .await;
                return None;
            }
            retries += 1;
            tracing::warn!(attempt = retries, max, error = %last, "model stream failed; retrying");
            let event = ResponseEvent::Retrying {
                attempt: retries,
                max,
                message: last,
                http_status: None,
            };
            if tx.send(Ok(event)).await.is_err() {
                return None;
            }
            tokio::time::sleep(delay.unwrap_or_else(|| backoff(retries))).await;
        }
    }

    fn prepare(
        &self,
        request: ResponsesRequest,
        wire: WireApi,
    ) -> Result<(String, HeaderMap, Bytes), ModelError> {
        let base = self.provider.base_url();
        let (url, body) = match wire {
            WireApi::Responses => (format!("{base}/responses"), request.body),
            WireApi::Chat => (
                format!("{base}/chat/completions"),
                chat::to_chat_body(&request.body),
            ),
        };
        let mut headers = self.base_headers.clone();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &request.headers {
            let (name, value) = header_pair(name, value)?;
            headers.insert(name, value);
        }
        let body = serde_json::to_vec(&body)
            .map_err(|e| ModelError::Config(format!("cannot serialize the request body: {e}")))?;
        Ok((url, headers, Bytes::from(body)))
    }

    /// Request layer: returns an accepted (2xx) response, `Err(Some)` for a final error,
    /// `Err(None)` when the receiver went away.
    async fn connect(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &Bytes,
        tx: &mpsc::Sender<Result<ResponseEvent, ModelError>>,
    ) -> Result<reqwest::Response, Option<ModelError>> {
        let max = self.provider.request_retries();
        let idle = self.provider.stream_idle_timeout();
        let mut retries = 0;
        loop {
            let mut builder = self
                .http
                .post(url)
                .headers(headers.clone())
                .body(body.clone());
            if !self.provider.query_params.is_empty() {
                builder = builder.query(&self.provider.query_params);
            }
            let (error, status, delay) = match tokio::time::timeout(idle, builder.send()).await {
                Err(_) => (
                    ModelError::Transport(format!("no response from {url} within {idle:?}")),
                    None,
                    None,
                ),
                Ok(Err(err)) => (ModelError::Transport(describe(&err)), None, None),
                Ok(Ok(response)) if response.status().is_success() => return Ok(response),
                Ok(Ok(response)) => {
                    let status = response.status();
                    let delay = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()));
                    let body = read_error_body(response).await;
                    match classify_status(status, &body) {
                        Ok(retryable) => (retryable, Some(status.as_u16()), delay),
                        Err(fatal) => return Err(Some(fatal)),
                    }
                }
            };
            let message = error.to_string();
            if retries >= max {
                return Err(Some(ModelError::RetryLimit {
                    attempts: retries + 1,
                    last: message,
                    http_status: status,
                }));
            }
            retries += 1;
            tracing::warn!(attempt = retries, max, error = %message, "model request failed; retrying");
            let event = ResponseEvent::Retrying {
                attempt: retries,
                max,
                message,
                http_status: status,
            };
            if tx.send(Ok(event)).await.is_err() {
                return Err(None);
            }
            tokio::time::sleep(delay.unwrap_or_else(|| backoff(retries))).await;
        }
    }

    /// Stream layer: reads the SSE body, every read bounded by the idle timeout.
    async fn consume(
        &self,
        mut response: reqwest::Response,
        wire: WireApi,
        tx: &mpsc::Sender<Result<ResponseEvent, ModelError>>,
    ) -> Consumed {
        let idle = self.provider.stream_idle_timeout();
        let mut parser = SseParser::new();
        let mut decoder = Decoder::new(wire);
        loop {
            let decoded = match tokio::time::timeout(idle, response.chunk()).await {
                Err(_) => return Consumed::Failed(ModelError::IdleTimeout, None),
                Ok(Err(err)) => return Consumed::Failed(ModelError::Stream(describe(&err)), None),
                Ok(Ok(Some(bytes))) => {
                    let frames = parser.feed(&bytes);
                    if parser.too_large() {
                        let message = format!(
                            "an SSE event exceeded {} bytes",
                            crate::sse::MAX_EVENT_BYTES
                        );
                        return Consumed::Failed(ModelError::Stream(message), None);
                    }
                    frames
                        .iter()
                        .flat_map(|frame| decoder.frame(frame))
                        .collect::<Vec<_>>()
                }
                Ok(Ok(None)) => {
                    let mut decoded: Vec<Decoded> = parser
                        .finish()
                        .iter()
                        .flat_map(|frame| decoder.frame(frame))
                        .collect();
                    decoded.extend(decoder.eof());
                    match deliver(decoded, tx).await {
                        Flow::Continue => {
                            return Consumed::Failed(
                                ModelError::Stream(
                                    "stream closed before response.completed".to_string(),
                                ),
                                None,
                            )
                        }
                        Flow::Done => return Consumed::Completed(response),
                        Flow::Cancelled => return Consumed::Cancelled,
                        Flow::Failed(err, delay) => return Consumed::Failed(err, delay),
                    }
                }
            };
            match deliver(decoded, tx).await {
                Flow::Continue => {}
                Flow::Done => return Consumed::Completed(response),
                Flow::Cancelled => return Consumed::Cancelled,
                Flow::Failed(err, delay) => return Consumed::Failed(err, delay),
            }
        }
    }
}

/// Forwards decoded events until a terminal one.
async fn deliver(
    decoded: Vec<Decoded>,
    tx: &mpsc::Sender<Result<ResponseEvent, ModelError>>,
) -> Flow {
    for item in decoded {
        match item {
            Decoded::Event(event) => {
                if tx.send(Ok(event)).await.is_err() {
                    return Flow::Cancelled;
                }
            }
            Decoded::Done(event) => {
                return if tx.send(Ok(event)).await.is_err() {
                    Flow::Cancelled
                } else {
                    Flow::Done
                };
            }
            Decoded::Failed(err, delay) => return Flow::Failed(err, delay),
        }
    }
    Flow::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost/v1"));
        assert!(is_loopback("http://[::1]:9/v1"));
        assert!(!is_loopback("https://api.openai.com/v1"));
    }

    #[test]
    fn status_classification() {
        let retry =
            |status: u16, body: &str| classify_status(StatusCode::from_u16(status).unwrap(), body);
        assert!(retry(500, "oops").is_ok());
        assert!(retry(503, "").is_ok());
        assert!(retry(
            429,
            r#"{"error":{"type":"rate_limit_exceeded","message":"slow"}}"#
        )
        .is_ok());
        assert!(matches!(
            retry(
                429,
                r#"{"error":{"type":"usage_limit_reached","message":"plan"}}"#
            ),
            Err(ModelError::UsageLimitReached(_))
        ));
        assert!(matches!(
            retry(
                429,
                r#"{"error":{"code":"insufficient_quota","message":"pay"}}"#
            ),
            Err(ModelError::QuotaExceeded(_))
        ));
        assert!(matches!(
            retry(
                400,
                r#"{"error":{"code":"context_length_exceeded","message":"long"}}"#
            ),
            Err(ModelError::ContextWindowExceeded(_))
        ));
        match retry(401, "bad key") {
            Err(ModelError::Http { status, message }) => {
                assert_eq!((status, message.as_str()), (401, "bad key"))
            }
            other => panic!("unexpected {other:?}"),
        }
        match retry(404, &"x".repeat(5000)) {
            Err(ModelError::Http { message, .. }) => assert!(message.len() < 2100),
            other => panic!("unexpected {other:?}"),
        }
    }
}
