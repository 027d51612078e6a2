//! [`MockServer`]: a real HTTP/1.1 server on 127.0.0.1 that answers model requests from a FIFO of
//! scripted [`Reply`]s, records every request, and notices clients that hang up mid-stream.
//!
//! Routes: any `POST` outside `/_mock/` takes the next reply (so `/v1/responses` and
//! `/v1/chat/completions` both work); `GET .../models` lists [`MockServer::set_models`];
//! `/_mock/*` is the control surface for other processes (see [`control`](self) below, and
//! `POST /_mock/wait`, which blocks until enough requests arrived or gated streams reached
//! their gate, so a test in another process waits without polling).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::http::{self, Request};
use crate::reply::{Reply, SseEvent};
use crate::spec::ReplySpec;

/// One request the server received (control requests under `/_mock/` are not recorded).
#[derive(Clone, Debug, Serialize)]
pub struct CapturedRequest {
    pub method: String,
    /// Path without the query string, e.g. `/v1/responses`.
    pub path: String,
    pub query: Option<String>,
    /// Lowercase header names; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or a JSON string holding the raw text when it is not JSON
    /// (`null` when empty, `{"omitted_bytes": N}` while bodies are not kept).
    pub body: Value,
    /// Milliseconds since the server started, for asserting retry delays.
    pub received_ms: u64,
    #[serde(skip)]
    pub received_at: Instant,
}

impl CapturedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A bounded wait ran out of time.
#[derive(Debug, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {wanted} {what} (have {got})")]
pub struct WaitError {
    pub what: &'static str,
    pub wanted: usize,
    pub got: usize,
    pub timeout: Duration,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Reply>,
    default: Option<Reply>,
    requests: Vec<CapturedRequest>,
    models: Vec<Value>,
    aborted_streams: usize,
    /// Gated replies that have sent their `before` events and wait at the gate (or did).
    gates_reached: usize,
    next_response: u64,
    /// Bodies are dropped (only their size is recorded) for long runs, e.g. 1,000 turns whose
    /// requests carry an ever longer history.
    forget_bodies: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Bumped on every recorded request or aborted stream so waiters re-check.
    changed: watch::Sender<u64>,
    gate: Arc<Notify>,
    started: Instant,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave State inconsistent (plain pushes/pops).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.changed.send_modify(|v| *v += 1);
    }

    fn next_response_id(&self) -> String {
        let mut state = self.lock();
        state.next_response += 1;
        format!("resp_{}", state.next_response)
    }

    fn record_abort(&self) {
        self.lock().aborted_streams += 1;
        self.bump();
    }

    fn record_gate_reached(&self) {
        self.lock().gates_reached += 1;
        self.bump();
    }

    /// Waits until `count(state)` is at least `wanted`; returns the last count seen.
    async fn wait_until(
        &self,
        what: &'static str,
        wanted: usize,
        timeout: Duration,
        count: impl Fn(&State) -> usize,
    ) -> Result<usize, WaitError> {
        let mut changes = self.changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let got = count(&self.lock());
            if got >= wanted {
                return Ok(got);
            }
            let err = WaitError {
                what,
                wanted,
                got,
                timeout,
            };
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return Err(err),
            }
        }
    }
}

/// The running server; stops accepting (and ends open streams) when dropped.
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept_task: JoinHandle<()>,
}

impl MockServer {
    /// Starts on an ephemeral port of 127.0.0.1.
    pub async fn start() -> io::Result<MockServer> {
        Self::start_on(0).await
    }

    /// Starts on the given port of 127.0.0.1 (0 = ephemeral).
    pub async fn start_on(port: u16) -> io::Result<MockServer> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (changed, _) = watch::channel(0);
        let (shutdown, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed,
            gate: Arc::new(Notify::new()),
            started: Instant::now(),
            shutdown,
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(MockServer {
            shared,
            addr,
            accept_task,
        })
    }

    /// `http://127.0.0.1:PORT/v1`, usable directly as a provider `base_url`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for the next model request (FIFO).
    pub fn enqueue(&self, reply: Reply) {
        self.shared.lock().queue.push_back(reply);
    }

    /// Queues a reply given in its JSON form.
    pub fn enqueue_spec(&self, spec: ReplySpec) {
        let reply = spec.into_reply(|| self.shared.next_response_id(), &self.shared.gate);
        self.enqueue(reply);
    }

    /// Replies still queued.
    pub fn pending_replies(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// The reply used when the queue is empty; without one an empty queue answers HTTP 500.
    pub fn set_default(&self, reply: Option<Reply>) {
        self.shared.lock().default = reply;
    }

    /// Entries of `GET /v1/models` (`{"object":"list","data":[...]}`).
    pub fn set_models(&self, models: Vec<Value>) {
        self.shared.lock().models = models;
    }

    /// Whether captured requests keep their bodies (the default) or only their size.
    pub fn set_keep_bodies(&self, keep: bool) {
        self.shared.lock().forget_bodies = !keep;
    }

    /// Every recorded request so far, in arrival order.
    pub fn requests(&self) -> Vec<CapturedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Waits until at least `n` requests were recorded and returns all of them.
    pub async fn wait_for_requests(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<CapturedRequest>, WaitError> {
        let got = self
            .wait_until("requests", n, timeout, |s| s.requests.len())
            .await?;
        debug_assert!(got >= n);
        Ok(self.requests())
    }

    /// How many streams ended because the client closed the connection before the reply finished.
    pub fn aborted_streams(&self) -> usize {
        self.shared.lock().aborted_streams
    }

    /// Waits until at least `n` streams were abandoned by their client.
    pub async fn wait_for_aborted_streams(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<usize, WaitError> {
        self.wait_until("aborted streams", n, timeout, |s| s.aborted_streams)
            .await
    }

    /// The gate used by scripted `gated` replies (`POST /_mock/release` calls `notify_one`).
    pub fn gate(&self) -> Arc<Notify> {
        Arc::clone(&self.shared.gate)
    }

    /// Opens the shared gate once (a release before the stream reaches the gate is kept).
    pub fn release(&self) {
        self.shared.gate.notify_one();
    }

    /// How many gated replies have reached their gate (sent `before`, then waited).
    pub fn gates_reached(&self) -> usize {
        self.shared.lock().gates_reached
    }

    /// Waits until at least `n` gated replies have reached their gate.
    pub async fn wait_for_gates_reached(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<usize, WaitError> {
        self.wait_until("gated streams at their gate", n, timeout, |s| {
            s.gates_reached
        })
        .await
    }

    async fn wait_until(
        &self,
        what: &'static str,
        wanted: usize,
        timeout: Duration,
        count: impl Fn(&State) -> usize,
    ) -> Result<usize, WaitError> {
        self.shared.wait_until(what, wanted, timeout, count).await
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept_task.abort();
        self.shared.shutdown.send_replace(true);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(Arc::clone(&shared), stream));
            }
            Err(err) => {
                // Transient (e.g. EMFILE): back off briefly instead of spinning.
                eprintln!("codex-mock-model: accept failed: {err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(shared: Arc<Shared>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut shutdown = shared.shutdown.subscribe();
    loop {
        let request = tokio::select! {
            r = http::read_request(&mut reader) => r,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let request = match request {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(err) => {
                let body = json!({"error": {"message": format!("bad request: {err}")}}).to_string();
                let _ =
                    http::write_response(&mut write, 400, "application/json", &[], body.as_bytes())
                        .await;
                return;
            }
        };
        let close = request.wants_close();
        let keep_alive = handle(&shared, request, &mut reader, &mut write).await;
        if close || !keep_alive {
            return;
        }
    }
}

fn json_response_body(value: &Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// Serves one request; returns whether the connection can carry another one.
async fn handle(
    shared: &Arc<Shared>,
    request: Request,
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
) -> bool {
    if let Some(command) = request.path.strip_prefix("/_mock/") {
        let (status, body) = if (request.method.as_str(), command) == ("POST", "wait") {
            wait_control(shared, &request.body).await
        } else {
            control(shared, &request.method, command, &request.body)
        };
        return http::write_response(
            write,
            status,
            "application/json",
            &[],
            &json_response_body(&body),
        )
        .await
        .is_ok();
    }
    let method = request.method.clone();
    let path = request.path.clone();
    let index = record(shared, request);
    if method == "GET" && path.ends_with("/models") {
        let models = shared.lock().models.clone();
        let body = json!({"object": "list", "data": models});
        return http::write_response(
            write,
            200,
            "application/json",
            &[],
            &json_response_body(&body),
        )
        .await
        .is_ok();
    }
    if method != "POST" {
        let body = json!({"error": {"message": format!("codex-mock-model: no route for {method} {path}")}});
        return http::write_response(
            write,
            404,
            "application/json",
            &[],
            &json_response_body(&body),
        )
        .await
        .is_ok();
    }
    let reply = {
        let mut state = shared.lock();
        state.queue.pop_front().or_else(|| state.default.clone())
    };
    let Some(reply) = reply else {
        let body = json!({"error": {
            "type": "mock_error",
            "message": format!("codex-mock-model: no reply queued for {method} {path} (request #{})", index + 1),
        }});
        return http::write_response(
            write,
            500,
            "application/json",
            &[],
            &json_response_body(&body),
        )
        .await
        .is_ok();
    };
    serve_reply(shared, reply, reader, write).await
}

fn record(shared: &Shared, request: Request) -> usize {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in request.headers {
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let forget = shared.lock().forget_bodies;
    let body = if request.body.is_empty() {
        Value::Null
    } else if forget {
        json!({"omitted_bytes": request.body.len()})
    } else {
        serde_json::from_slice(&request.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&request.body).into_owned()))
    };
    let received_at = Instant::now();
    let captured = CapturedRequest {
        method: request.method,
        path: request.path,
        query: request.query,
        headers,
        body,
        received_ms: u64::try_from(received_at.duration_since(shared.started).as_millis())
            .unwrap_or(u64::MAX),
        received_at,
    };
    let index = {
        let mut state = shared.lock();
        state.requests.push(captured);
        state.requests.len() - 1
    };
    shared.bump();
    index
}

/// `/_mock/*` (except `POST wait`, see [`wait_control`]): `GET requests`, `GET stats`,
/// `POST enqueue` (one spec or an array), `POST release`, `POST default` (a spec or null),
/// `POST models` (an array), `POST keep_bodies` (a boolean).
fn control(shared: &Arc<Shared>, method: &str, command: &str, body: &[u8]) -> (u16, Value) {
    let parsed: Result<Value, _> = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(body)
    };
    let parsed = match parsed {
        Ok(v) => v,
        Err(err) => {
            return (
                400,
                json!({"error": {"message": format!("invalid JSON: {err}")}}),
            )
        }
    };
    match (method, command) {
        ("GET", "requests") => (
            200,
            serde_json::to_value(&shared.lock().requests).unwrap_or(Value::Null),
        ),
        // Counts for other processes' tests, e.g. that a killed client abandoned its stream.
        ("GET", "stats") => (200, stats(&shared.lock())),
        ("POST", "enqueue") => {
            let specs: Result<Vec<ReplySpec>, _> = match parsed {
                Value::Array(_) => serde_json::from_value(parsed),
                other => serde_json::from_value(other).map(|s| vec![s]),
            };
            match specs {
                Ok(specs) => {
                    let n = specs.len();
                    for spec in specs {
                        let reply = spec.into_reply(|| shared.next_response_id(), &shared.gate);
                        shared.lock().queue.push_back(reply);
                    }
                    (200, json!({"queued": n}))
                }
                Err(err) => (
                    400,
                    json!({"error": {"message": format!("invalid reply: {err}")}}),
                ),
            }
        }
        ("POST", "release") => {
            shared.gate.notify_one();
            (200, json!({}))
        }
        ("POST", "default") => {
            if parsed.is_null() {
                shared.lock().default = None;
                return (200, json!({}));
            }
            match serde_json::from_value::<ReplySpec>(parsed) {
                Ok(spec) => {
                    let reply = spec.into_reply(|| shared.next_response_id(), &shared.gate);
                    shared.lock().default = Some(reply);
                    (200, json!({}))
                }
                Err(err) => (
                    400,
                    json!({"error": {"message": format!("invalid reply: {err}")}}),
                ),
            }
        }
        ("POST", "keep_bodies") => match parsed {
            Value::Bool(keep) => {
                shared.lock().forget_bodies = !keep;
                (200, json!({}))
            }
            other => (
                400,
                json!({"error": {"message": format!("expected true or false, got {other}")}}),
            ),
        },
        ("POST", "models") => match serde_json::from_value::<Vec<Value>>(parsed) {
            Ok(models) => {
                shared.lock().models = models;
                (200, json!({}))
            }
            Err(err) => (
                400,
                json!({"error": {"message": format!("expected an array: {err}")}}),
            ),
        },
        _ => (
            404,
            json!({"error": {"message": format!("unknown control {method} /_mock/{command}")}}),
        ),
    }
}

/// Longest `POST /_mock/wait`, so a forgotten waiter cannot hold a connection forever.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// Reads one count out of the mock's state.
type Counter = fn(&State) -> usize;

/// The counts other processes' tests wait on or check.
fn stats(state: &State) -> Value {
    json!({
        "requests": state.requests.len(),
        "aborted_streams": state.aborted_streams,
        "gates_reached": state.gates_reached,
        "pending_replies": state.queue.len(),
    })
}

/// `POST /_mock/wait {"requests"?: n, "aborted_streams"?: n, "gates_reached"?: n,
/// "timeout_ms"?: t}`: answers 200 with the [`stats`] once every given count is reached, or 408
/// with the stats and an error after `timeout_ms` (default 10 s, at most 300 s). Lets tests in
/// other processes wait for the mock without polling.
async fn wait_control(shared: &Arc<Shared>, body: &[u8]) -> (u16, Value) {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let wanted = |key: &str| {
        parsed
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    };
    let timeout = parsed
        .get("timeout_ms")
        .and_then(Value::as_u64)
        .map_or(Duration::from_secs(10), Duration::from_millis)
        .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + timeout;
    let left = || deadline.saturating_duration_since(tokio::time::Instant::now());
    let mut outcome = Ok(0);
    let waits: [(&'static str, &str, Counter); 3] = [
        ("requests", "requests", |s| s.requests.len()),
        ("aborted streams", "aborted_streams", |s| s.aborted_streams),
        ("gated streams at their gate", "gates_reached", |s| {
            s.gates_reached
        }),
    ];
    for (what, key, count) in waits {
        outcome = shared.wait_until(what, wanted(key), left(), count).await;
        if outcome.is_err() {
            break;
        }
    }
    let mut body = stats(&shared.lock());
    match outcome {
        Ok(_) => (200, body),
        Err(err) => {
            body["error"] = json!({"message": err.to_string()});
            (408, body)
        }
    }
}

async fn write_events(write: &mut OwnedWriteHalf, events: &[SseEvent]) -> io::Result<()> {
    for event in events {
        http::write_chunk(write, event.to_wire().as_bytes()).await?;
    }
    Ok(())
}

/// Resolves when the client closes its side (or the socket fails).
async fn client_gone(reader: &mut BufReader<OwnedReadHalf>) {
    let mut scratch = [0u8; 1024];
    loop {
        match reader.read(&mut scratch).await {
            Ok(0) | Err(_) => return,
            // A client does not send while awaiting a response; ignore stray bytes.
            Ok(_) => continue,
        }
    }
}

async fn serve_reply(
    shared: &Arc<Shared>,
    reply: Reply,
    reader: &mut BufReader<OwnedReadHalf>,
    write: &mut OwnedWriteHalf,
) -> bool {
    const SSE: &str = "text/event-stream";
    let mut shutdown = shared.shutdown.subscribe();
    let result: io::Result<bool> = async {
        match reply {
            Reply::Status {
                status,
                body,
                retry_after,
            } => {
                let content_type = if serde_json::from_str::<Value>(&body).is_ok() {
                    "application/json"
                } else {
                    "text/plain"
                };
                let headers: Vec<(&str, &str)> = retry_after
                    .as_deref()
                    .map(|v| vec![("retry-after", v)])
                    .unwrap_or_default();
                http::write_response(write, status, content_type, &headers, body.as_bytes())
                    .await?;
                Ok(true)
            }
            Reply::Sse(events) => {
                http::write_stream_head(write, SSE).await?;
                write_events(write, &events).await?;
                http::write_last_chunk(write).await?;
                Ok(true)
            }
            Reply::Raw {
                content_type,
                chunks,
            } => {
                http::write_stream_head(write, &content_type).await?;
                for chunk in &chunks {
                    http::write_chunk(write, chunk.as_bytes()).await?;
                }
                http::write_last_chunk(write).await?;
                Ok(true)
            }
            Reply::DropAfter { events } => {
                http::write_stream_head(write, SSE).await?;
                write_events(write, &events).await?;
                // Closing without the terminating chunk is what a dropped stream looks like.
                Ok(false)
            }
            Reply::Idle { events } => {
                http::write_stream_head(write, SSE).await?;
                write_events(write, &events).await?;
                tokio::select! {
                    _ = client_gone(reader) => shared.record_abort(),
                    _ = shutdown.wait_for(|stop| *stop) => {}
                }
                Ok(false)
            }
            Reply::Gated {
                before,
                gate,
                after,
            } => {
                http::write_stream_head(write, SSE).await?;
                write_events(write, &before).await?;
                shared.record_gate_reached();
                tokio::select! {
                    _ = gate.notified() => {}
                    _ = client_gone(reader) => {
                        shared.record_abort();
                        return Ok(false);
                    }
                    _ = shutdown.wait_for(|stop| *stop) => return Ok(false),
                }
                write_events(write, &after).await?;
                http::write_last_chunk(write).await?;
                Ok(true)
            }
        }
    }
    .await;
    match result {
        Ok(keep_alive) => keep_alive,
        Err(_) => {
            // Writing failed: the client went away mid-reply.
            shared.record_abort();
            false
        }
    }
}
