//! Test harness: runs the app-server in-process over an in-memory pipe, against a temp
//! CODEX_HOME and a [`MockServer`], and speaks JSON-RPC to it with bounded waits. Each server
//! runs on a runtime of its own, so [`Server::kill9`] can stop it dead, as a SIGKILL would
//! (no shutdown, no flush): what it wrote before is what the next server finds.

use codex_core::config::{parse_overrides, Config};
use codex_core::RuntimeOptions;
use codex_mock_model::MockServer;
use codex_protocol::methods::{Initialize, Method, Notification};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bound for every single wait (debug build on a shared 2-core machine).
pub const WAIT: Duration = Duration::from_secs(30);

/// A CODEX_HOME, a working directory and the mock model that the spawned servers share.
pub struct Env {
    pub home: TempDir,
    pub work: TempDir,
    pub mock: MockServer,
}

impl Env {
    pub async fn new() -> Env {
        Env {
            home: tempfile::tempdir().expect("temp CODEX_HOME"),
            work: tempfile::tempdir().expect("temp workdir"),
            mock: MockServer::start().await.expect("mock model server"),
        }
    }

    /// `-c` overrides routing the model to the mock with no retries.
    pub fn mock_overrides(&self) -> Vec<String> {
        self.overrides_with_retries(0, 0)
    }

    pub fn overrides_with_retries(&self, request: u32, stream: u32) -> Vec<String> {
        vec![
            r#"model="mock-model""#.to_string(),
            r#"model_provider="mock""#.to_string(),
            format!(
                r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries={request}, stream_max_retries={stream}}}"#,
                self.mock.url()
            ),
        ]
    }

    /// Spawns and initializes a server with the mock overrides plus `extra`.
    pub async fn server(&self, extra: &[&str]) -> Server {
        let mut overrides = self.mock_overrides();
        overrides.extend(extra.iter().map(|s| s.to_string()));
        let mut server = Server::spawn(self.home.path(), self.work.path(), &overrides);
        server.initialize().await;
        server
    }

    /// Model requests to `/responses` (not `GET /models`), in arrival order.
    pub fn model_requests(&self) -> Vec<Value> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.body)
            .collect()
    }

    /// Waits until `n` model requests arrived and returns their bodies.
    pub async fn wait_model_requests(&self, n: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let got = self.model_requests();
            if got.len() >= n {
                return got;
            }
            let total = self.mock.requests().len();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {n} model requests");
            let _ = self.mock.wait_for_requests(total + 1, left).await;
        }
    }
}

/// One running app-server.
pub struct Server {
    /// The server's own runtime; dropping it in the background is the SIGKILL.
    runtime: Option<tokio::runtime::Runtime>,
    session: Option<JoinHandle<Result<(), codex_server::ServerError>>>,
    stdin: Option<WriteHalf<DuplexStream>>,
    rx: mpsc::UnboundedReceiver<Value>,
    /// Received but not yet consumed by a wait.
    pending: VecDeque<Value>,
    /// Every message received, in order (for ordering assertions).
    pub log: Vec<Value>,
    next_id: u64,
}

/// How a server session ended.
#[derive(Debug)]
pub struct Exit(Result<(), String>);

impl Exit {
    /// 0 for a clean end, 1 for an error, as the binary's exit code would be.
    pub fn code(&self) -> Option<i32> {
        Some(if self.0.is_ok() { 0 } else { 1 })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Server {
    /// Starts a server with `-c`-style overrides, threads defaulting to `cwd`, without
    /// initializing it.
    pub fn spawn(home: &Path, cwd: &Path, overrides: &[String]) -> Server {
        let overrides = parse_overrides(overrides).expect("overrides");
        let config = Config::load_from(home.to_path_buf(), overrides).expect("config");
        Server::spawn_with(config, cwd)
    }

    /// Starts a server over an already loaded configuration (tests that move the system
    /// files); `$HOME` is `<CODEX_HOME>/home`, so user skills stay inside the test's home.
    pub fn spawn_with(config: Config, cwd: &Path) -> Server {
        let options = RuntimeOptions {
            default_cwd: cwd.to_path_buf(),
            home_dir: Some(config.codex_home.join("home")),
        };
        let (server_end, client_end) = codex_jsonrpc::memory_pair();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("server runtime");
        let session = runtime.spawn(codex_server::serve_stream(config, options, server_end));
        let (stdout, stdin) = tokio::io::split(client_end);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let value = serde_json::from_str::<Value>(&line)
                    .unwrap_or_else(|e| json!({"__unparsable": line, "error": e.to_string()}));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Server {
            runtime: Some(runtime),
            session: Some(session),
            stdin: Some(stdin),
            rx,
            pending: VecDeque::new(),
            log: Vec::new(),
            next_id: 0,
        }
    }

    /// Logs go to the test's own stderr; kept for the messages that print it.
    pub fn stderr(&self) -> String {
        String::new()
    }

    /// Writes one raw line (a newline is appended).
    pub async fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.write_all(b"\n").await.expect("write");
        stdin.flush().await.expect("flush");
    }

    pub async fn send(&mut self, msg: &Value) {
        self.send_raw(&msg.to_string()).await;
    }

    /// Sends a request with a fresh string id and returns the id.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(format!("req-{}", self.next_id));
        self.send(&json!({"id": id, "method": method, "params": params}))
            .await;
        id
    }

    /// Next message (from the backlog or the wire) that satisfies `pred`; it is consumed.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).expect("index in range");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    self.log.push(msg.clone());
                    if pred(&msg) {
                        return msg;
                    }
                    self.pending.push_back(msg);
                }
                Ok(None) => panic!(
                    "server closed stdout while waiting for {what}; unconsumed:\n{}\nstderr:\n{}",
                    self.describe_backlog(),
                    self.stderr()
                ),
                Err(_) => panic!(
                    "timed out waiting for {what}; unconsumed:\n{}\nstderr:\n{}",
                    self.describe_backlog(),
                    self.stderr()
                ),
            }
        }
    }

    /// The unconsumed messages, one per line, each cut to a readable length.
    fn describe_backlog(&self) -> String {
        self.pending
            .iter()
            .map(|m| {
                let text = m.to_string();
                match text.char_indices().nth(300) {
                    Some((cut, _)) => format!("  {}...", &text[..cut]),
                    None => format!("  {text}"),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The response (or error) message for `id`.
    pub async fn response(&mut self, id: &Value) -> Value {
        let id = id.clone();
        self.wait_for(&format!("response {id}"), move |m| {
            m.get("id") == Some(&id) && m.get("method").is_none()
        })
        .await
    }

    /// Sends `M` and returns its result, panicking on an error reply.
    pub async fn call<M: Method>(&mut self, params: Value) -> Value {
        let id = self.request(M::NAME, params).await;
        let msg = self.response(&id).await;
        match msg.get("result") {
            Some(r) => r.clone(),
            None => panic!("{} failed: {msg}", M::NAME),
        }
    }

    /// Sends `method` and returns its error object, panicking on success.
    pub async fn call_err(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        let msg = self.response(&id).await;
        match msg.get("error") {
            Some(e) => e.clone(),
            None => panic!("{method} unexpectedly succeeded: {msg}"),
        }
    }

    /// Params of the next notification `N` (for any thread).
    pub async fn notification<N: Notification>(&mut self) -> Value {
        self.wait_for(N::NAME, |m| m["method"] == N::NAME && m.get("id").is_none())
            .await["params"]
            .clone()
    }

    /// Params of the next notification `N` about `thread_id`.
    pub async fn thread_notification<N: Notification>(&mut self, thread_id: &str) -> Value {
        let tid = thread_id.to_string();
        self.wait_for(&format!("{} for {thread_id}", N::NAME), move |m| {
            m["method"] == N::NAME && m.get("id").is_none() && m["params"]["threadId"] == tid
        })
        .await["params"]
            .clone()
    }

    /// The `initialize` handshake; returns its result.
    pub async fn initialize(&mut self) -> Value {
        let result = self
            .call::<Initialize>(json!({
                "clientInfo": {"name": "codex_test", "title": "Tests", "version": "1.2.3"},
                "capabilities": {"experimentalApi": true}
            }))
            .await;
        self.send(&json!({"method": "initialized"})).await;
        result
    }

    /// Closes the server's input and waits (bounded) for its session to end; everything it
    /// wrote before is moved to the backlog.
    pub async fn close_and_wait(&mut self) -> Exit {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        let session = self.session.take().expect("the session runs");
        let status = tokio::time::timeout(WAIT, session)
            .await
            .expect("server did not stop after its input ended")
            .expect("server task");
        let status = Exit(status.map_err(|e| e.to_string()));
        // The reader task ends at stdout EOF; collect what it forwarded.
        loop {
            match tokio::time::timeout(WAIT, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    self.log.push(msg.clone());
                    self.pending.push_back(msg);
                }
                Ok(None) => break,
                Err(_) => panic!("stdout stayed open after the process exited"),
            }
        }
        status
    }

    /// Stops the server dead, as SIGKILL would: its tasks are dropped where they stand.
    pub async fn kill9(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        self.stdin.take();
    }

    /// Messages received so far and not consumed.
    pub fn backlog(&self) -> &VecDeque<Value> {
        &self.pending
    }

    /// Drains messages already on the wire into the backlog without waiting.
    pub fn drain_ready(&mut self) {
        while let Ok(msg) = self.rx.try_recv() {
            self.log.push(msg.clone());
            self.pending.push_back(msg);
        }
    }
}

/// `{"type":"text","text":...}` input list.
pub fn text_input(text: &str) -> Value {
    json!([{"type": "text", "text": text}])
}

/// Every text of every content part of every message in a request body's `input`.
pub fn input_texts(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .flat_map(|i| i["content"].as_array().cloned().unwrap_or_default())
                .filter_map(|c| c["text"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether some message in the body's input contains `needle`.
pub fn input_contains(body: &Value, needle: &str) -> bool {
    input_texts(body).iter().any(|t| t.contains(needle))
}

impl Server {
    /// `thread/start {}`; consumes its `thread/started` and returns the thread id.
    pub async fn start_thread(&mut self) -> String {
        self.start_thread_with(json!({})).await["thread"]["id"]
            .as_str()
            .expect("thread id")
            .to_string()
    }

    /// `thread/start` with params; consumes its `thread/started` and returns the result.
    pub async fn start_thread_with(&mut self, params: Value) -> Value {
        use codex_protocol::methods::{ThreadStart, ThreadStarted};
        let result = self.call::<ThreadStart>(params).await;
        let id = result["thread"]["id"].clone();
        self.wait_for("thread/started", |m| {
            m["method"] == ThreadStarted::NAME && m["params"]["thread"]["id"] == id
        })
        .await;
        result
    }

    /// Starts a turn with text input; returns the turn id.
    pub async fn start_turn(&mut self, thread_id: &str, text: &str) -> String {
        use codex_protocol::methods::TurnStart;
        let r = self
            .call::<TurnStart>(json!({"threadId": thread_id, "input": text_input(text)}))
            .await;
        r["turn"]["id"].as_str().expect("turn id").to_string()
    }

    /// Params of `turn/completed` for this turn.
    pub async fn turn_completed(&mut self, turn_id: &str) -> Value {
        use codex_protocol::methods::TurnCompleted;
        let tid = turn_id.to_string();
        self.wait_for(&format!("turn/completed {turn_id}"), move |m| {
            m["method"] == TurnCompleted::NAME && m["params"]["turn"]["id"] == tid
        })
        .await["params"]
            .clone()
    }

    /// Runs one text turn to its end; returns the `turn/completed` params.
    pub async fn run_turn(&mut self, thread_id: &str, text: &str) -> Value {
        let turn = self.start_turn(thread_id, text).await;
        self.turn_completed(&turn).await
    }
}
