//! A `codex app-server` process (optionally inside a test host's namespace) spoken to over
//! its stdin/stdout, one JSON-RPC message per line, every wait bounded. Its stderr is kept
//! for failure messages.

use super::net::Host;
use crate::suite::harness::{codex_bin, WAIT};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

pub struct AppServer {
    pub name: String,
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::UnboundedReceiver<Value>,
    pending: VecDeque<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
}

impl AppServer {
    /// Starts `codex -c ... app-server` with `home` as `CODEX_HOME` and `cwd` as its
    /// directory, inside `host` when given.
    pub fn spawn(
        name: &str,
        host: Option<&Host>,
        home: &Path,
        cwd: &Path,
        overrides: &[String],
    ) -> AppServer {
        let mut cmd = match host {
            Some(host) => {
                let mut cmd = tokio::process::Command::new("ip");
                // `ip netns exec` execs the command: the child pid is the server's.
                cmd.args(["netns", "exec", &host.netns]).arg(codex_bin());
                cmd
            }
            None => tokio::process::Command::new(codex_bin()),
        };
        for o in overrides {
            cmd.arg("-c").arg(o);
        }
        cmd.args(["app-server", "--listen", "stdio://"])
            .env("CODEX_HOME", home)
            .env("RUST_LOG", "warn")
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("spawning codex app-server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let value = serde_json::from_str::<Value>(&line)
                    .unwrap_or_else(|_| json!({"__unparsable": line}));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf).await {
                if n == 0 {
                    return;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        AppServer {
            name: name.to_string(),
            child,
            stdin,
            rx,
            pending: VecDeque::new(),
            stderr,
            next_id: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("server still running")
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    async fn send(&mut self, msg: &Value) {
        let mut line = msg.to_string();
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{}: writing a request: {e}\n{}", self.name, self.stderr()));
    }

    /// Sends a request and returns its id (answers are collected by [`AppServer::response`]).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.send(&json!({"id": id, "method": method, "params": params}))
            .await;
        id
    }

    /// The next message satisfying `pred` (earlier ones that did not are kept).
    pub async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&pred) {
            return self.pending.remove(i).expect("index in range");
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) if pred(&msg) => return msg,
                Ok(Some(msg)) => self.pending.push_back(msg),
                Ok(None) => panic!(
                    "{}: stdout closed while waiting for {what}\nstderr:\n{}",
                    self.name,
                    self.stderr()
                ),
                Err(_) => panic!(
                    "{}: timed out waiting for {what}\nstderr:\n{}",
                    self.name,
                    self.stderr()
                ),
            }
        }
    }

    /// The answer (result or error) to request `id`.
    pub async fn response(&mut self, id: &Value) -> Value {
        let id = id.clone();
        let what = format!("the answer to request {id}");
        self.wait_for(&what, move |m| m["id"] == id && m.get("method").is_none())
            .await
    }

    /// `method`'s result; panics on an error answer.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        let answer = self.response(&id).await;
        match answer.get("result") {
            Some(result) => result.clone(),
            None => panic!("{}: {method} failed: {answer}", self.name),
        }
    }

    /// `method`'s error; panics on success.
    pub async fn call_err(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        let answer = self.response(&id).await;
        match answer.get("error") {
            Some(error) => error.clone(),
            None => panic!("{}: {method} unexpectedly succeeded: {answer}", self.name),
        }
    }

    pub async fn initialize(&mut self) {
        self.call(
            "initialize",
            json!({"clientInfo": {"name": "codex_fleet_test", "version": "1.0.0"}}),
        )
        .await;
        self.send(&json!({"method": "initialized"})).await;
    }

    /// `thread/start {}`; returns the thread id.
    pub async fn start_thread(&mut self) -> String {
        let started = self.call("thread/start", json!({})).await;
        started["thread"]["id"]
            .as_str()
            .expect("thread id")
            .to_string()
    }

    /// Starts a turn with `text`; returns its id.
    pub async fn start_turn(&mut self, thread: &str, text: &str) -> String {
        let started = self
            .call(
                "turn/start",
                json!({"threadId": thread, "input": [{"type": "text", "text": text}]}),
            )
            .await;
        started["turn"]["id"].as_str().expect("turn id").to_string()
    }

    /// `turn/completed` of turn `id`: its `turn` object.
    pub async fn turn_completed(&mut self, id: &str) -> Value {
        let id = id.to_string();
        self.wait_for(&format!("turn/completed of {id}"), move |m| {
            m["method"] == "turn/completed" && m["params"]["turn"]["id"] == id
        })
        .await["params"]["turn"]
            .clone()
    }

    /// A turn with `text`, run to its end; returns the `turn` of `turn/completed`.
    pub async fn run_turn(&mut self, thread: &str, text: &str) -> Value {
        let id = self.start_turn(thread, text).await;
        self.turn_completed(&id).await
    }

    /// Every thread of a full `thread/list` walk with pages of `limit`.
    pub async fn list_threads(&mut self, limit: u32) -> Vec<Value> {
        let mut threads = Vec::new();
        let mut cursor = Value::Null;
        loop {
            let page = self
                .call("thread/list", json!({"limit": limit, "cursor": cursor}))
                .await;
            threads.extend(page["data"].as_array().expect("data").iter().cloned());
            cursor = page["nextCursor"].clone();
            if cursor.is_null() {
                return threads;
            }
        }
    }

    /// Every thread id of a full `thread/list` walk with pages of `limit`.
    pub async fn list_all(&mut self, limit: u32) -> Vec<String> {
        self.list_threads(limit)
            .await
            .iter()
            .map(|t| t["id"].as_str().expect("id").to_string())
            .collect()
    }

    /// SIGKILL, and waits for the process to be gone.
    pub async fn kill9(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("killed server exits")
            .expect("wait");
    }
}
