//! One `codex app-server` process spoken to over stdio: raw lines out, parsed messages in
//! (collected by a reader task), bounded waits, kill -9 and clean exit.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

use super::{codex_bin, Mock, WAIT};

/// Most stderr kept for failure messages.
const STDERR_TAIL: usize = 16 * 1024;

/// A running server. Killed when dropped.
pub struct Server {
    child: Child,
    pid: u32,
    stdin: Option<ChildStdin>,
    rx: mpsc::UnboundedReceiver<Value>,
    /// Received but not yet consumed by a wait, in arrival order.
    backlog: VecDeque<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

/// `-c` overrides that send every model request to `mock` without retries.
pub fn mock_overrides(mock: &Mock) -> Vec<String> {
    vec![
        r#"model="mock-model""#.to_string(),
        r#"model_provider="mock""#.to_string(),
        format!(
            r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0, stream_idle_timeout_ms=5000}}"#,
            mock.url()
        ),
    ]
}

impl Server {
    /// Spawns and initializes a server on `home` (working directory `cwd`) with the mock
    /// overrides and `extra` ones.
    pub async fn start(home: &Path, cwd: &Path, mock: &Mock, extra: &[&str]) -> Server {
        let mut server = Server::spawn(home, cwd, mock, extra);
        server.initialize().await;
        server
    }

    /// Spawns without the handshake.
    pub fn spawn(home: &Path, cwd: &Path, mock: &Mock, extra: &[&str]) -> Server {
        Server::spawn_with_env(home, cwd, mock, extra, &[])
    }

    /// Spawns without the handshake, with extra environment variables.
    pub fn spawn_with_env(
        home: &Path,
        cwd: &Path,
        mock: &Mock,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut cmd = Command::new(codex_bin());
        cmd.envs(env.iter().copied());
        for o in mock_overrides(mock)
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
        {
            cmd.arg("-c").arg(o);
        }
        cmd.args(["app-server", "--listen", "stdio://"])
            .env("CODEX_HOME", home)
            .env("RUST_LOG", "warn")
            .env_remove("OPENAI_API_KEY")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawning codex app-server");
        let pid = child.id().expect("a running child has a pid");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
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
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    if s.len() > 2 * STDERR_TAIL {
                        let mut cut = s.len() - STDERR_TAIL;
                        while !s.is_char_boundary(cut) {
                            cut += 1;
                        }
                        s.drain(..cut);
                    }
                }
            }
        });
        Server {
            child,
            pid,
            stdin,
            rx,
            backlog: VecDeque::new(),
            stderr,
            next_id: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The last part of what the server wrote to stderr.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Writes bytes as they are (the caller adds the newline).
    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin already closed");
        stdin.write_all(bytes).await.expect("write to server stdin");
        stdin.flush().await.expect("flush server stdin");
    }

    /// Writes one line.
    pub async fn send_line(&mut self, line: &str) {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.send_bytes(&bytes).await;
    }

    /// Sends a request with a fresh string id; returns the id.
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.fresh_id();
        self.send_line(&json!({"id": id, "method": method, "params": params}).to_string())
            .await;
        id
    }

    /// A request id not used before on this connection.
    pub fn fresh_id(&mut self) -> Value {
        self.next_id += 1;
        json!(format!("req-{}", self.next_id))
    }

    /// The next message satisfying `pred` (backlog first); it is consumed.
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("index in range");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) if pred(&msg) => return msg,
                Ok(Some(msg)) => self.backlog.push_back(msg),
                Ok(None) => panic!(
                    "server closed stdout while waiting for {what}\n{}",
                    self.describe()
                ),
                Err(_) => panic!("timed out waiting for {what}\n{}", self.describe()),
            }
        }
    }

    /// Takes a message satisfying `pred` from what already arrived, without waiting.
    pub fn take_ready(&mut self, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        while let Ok(msg) = self.rx.try_recv() {
            self.backlog.push_back(msg);
        }
        let i = self.backlog.iter().position(pred)?;
        self.backlog.remove(i)
    }

    /// The next message (backlog first), or `None` once stdout is closed.
    pub async fn next_message(&mut self) -> Option<Value> {
        if let Some(msg) = self.backlog.pop_front() {
            return Some(msg);
        }
        match tokio::time::timeout(WAIT, self.rx.recv()).await {
            Ok(msg) => msg,
            Err(_) => panic!("timed out waiting for any message\n{}", self.describe()),
        }
    }

    fn describe(&self) -> String {
        let backlog: Vec<String> = self
            .backlog
            .iter()
            .map(|m| {
                let text = m.to_string();
                match text.char_indices().nth(300) {
                    Some((cut, _)) => format!("  {}...", &text[..cut]),
                    None => format!("  {text}"),
                }
            })
            .collect();
        format!(
            "unconsumed:\n{}\nstderr tail:\n{}",
            backlog.join("\n"),
            self.stderr()
        )
    }

    /// The reply (result or error) to request `id`.
    pub async fn reply(&mut self, id: &Value) -> Value {
        let id = id.clone();
        self.wait_for(&format!("the reply to {id}"), move |m| {
            m.get("id") == Some(&id) && m.get("method").is_none()
        })
        .await
    }

    /// Sends a request and returns its result, or its error object as `Err`.
    pub async fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.request(method, params).await;
        let reply = self.reply(&id).await;
        match (reply.get("result"), reply.get("error")) {
            (Some(result), None) => Ok(result.clone()),
            (None, Some(error)) => Err(error.clone()),
            _ => panic!("malformed reply to {method}: {reply}"),
        }
    }

    /// Sends a request that must succeed.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        match self.call(method, params).await {
            Ok(result) => result,
            Err(error) => panic!("{method} failed: {error}\n{}", self.describe()),
        }
    }

    pub async fn initialize(&mut self) -> Value {
        let result = self
            .ok(
                "initialize",
                json!({"clientInfo": {"name": "codex_fault", "title": "Fault suite", "version": "1.0.0"},
                       "capabilities": {"experimentalApi": true}}),
            )
            .await;
        self.send_line(r#"{"method":"initialized"}"#).await;
        result
    }

    /// `thread/start` with params; returns the thread id (its `thread/started` is consumed).
    pub async fn start_thread(&mut self, params: Value) -> String {
        let result = self.ok("thread/start", params).await;
        let id = result["thread"]["id"]
            .as_str()
            .expect("thread id")
            .to_string();
        let wanted = id.clone();
        self.wait_for("thread/started", move |m| {
            m["method"] == "thread/started" && m["params"]["thread"]["id"] == wanted
        })
        .await;
        id
    }

    /// Starts a text turn; returns the turn id.
    pub async fn start_turn(&mut self, thread_id: &str, text: &str) -> String {
        let result = self
            .ok(
                "turn/start",
                json!({"threadId": thread_id, "input": text_input(text)}),
            )
            .await;
        result["turn"]["id"].as_str().expect("turn id").to_string()
    }

    /// The `turn/completed` params of this turn.
    pub async fn turn_completed(&mut self, turn_id: &str) -> Value {
        let wanted = turn_id.to_string();
        self.wait_for(&format!("turn/completed of {turn_id}"), move |m| {
            m["method"] == "turn/completed" && m["params"]["turn"]["id"] == wanted
        })
        .await["params"]
            .clone()
    }

    /// Runs a text turn to its end; returns the finished turn.
    pub async fn run_turn(&mut self, thread_id: &str, text: &str) -> Value {
        let turn = self.start_turn(thread_id, text).await;
        self.turn_completed(&turn).await["turn"].clone()
    }

    /// `thread/read` with its turns.
    pub async fn read_thread(&mut self, thread_id: &str) -> Value {
        self.ok(
            "thread/read",
            json!({"threadId": thread_id, "includeTurns": true}),
        )
        .await["thread"]
            .clone()
    }

    /// Every thread id `thread/list` returns, walking pages of `limit`.
    pub async fn list_all(&mut self, limit: u32) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = self
                .ok("thread/list", json!({"limit": limit, "cursor": cursor}))
                .await;
            for t in page["data"].as_array().expect("data") {
                ids.push(t["id"].as_str().expect("id").to_string());
            }
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                return ids;
            }
        }
    }

    /// SIGKILL, then reap (bounded).
    pub async fn kill9(&mut self) {
        self.child.start_kill().expect("kill -9");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("a killed server was not reaped")
            .expect("wait");
    }

    /// Closes stdin and waits (bounded) for a clean exit.
    pub async fn close(mut self) -> ExitStatus {
        drop(self.stdin.take());
        match tokio::time::timeout(WAIT, self.child.wait()).await {
            Ok(status) => status.expect("wait"),
            Err(_) => panic!("server did not exit after stdin EOF\n{}", self.describe()),
        }
    }
}

/// `[{"type":"text","text":...}]`.
pub fn text_input(text: &str) -> Value {
    json!([{"type": "text", "text": text}])
}

/// The rollout file of a thread, from `thread/read`.
pub fn rollout_path(thread: &Value) -> PathBuf {
    PathBuf::from(thread["path"].as_str().expect("thread.path"))
}
