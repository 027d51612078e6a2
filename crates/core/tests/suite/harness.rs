//! A `Runtime` wired to a mock model and an in-process client: read what the runtime sends,
//! answer its requests, and inspect what reached the model. Every wait is bounded.

use codex_core::config::{parse_overrides, Config};
use codex_core::sink::BoxFuture;
use codex_core::{Caller, ClientSink, PendingReply, Route, Runtime, RuntimeOptions};
use codex_jsonrpc::{Frame, Peer, RequestError};
use codex_mock_model::{ev_completed, ev_created, ev_function_call_item, MockServer, Reply, Usage};
use codex_protocol::jsonrpc::RequestId;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::mpsc;

/// The runtime's client: everything goes to one [`Peer`] whose frames the test reads.
struct PeerSink(Peer);

impl ClientSink for PeerSink {
    fn notify<'a>(
        &'a self,
        _route: &'a Route,
        _method: &'static str,
        frame: Frame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _ = self.0.send(frame).await;
        })
    }

    fn request<'a>(
        &'a self,
        _route: &'a Route,
        method: &'static str,
        params_json: String,
    ) -> BoxFuture<'a, Result<PendingReply, RequestError>> {
        Box::pin(async move {
            let pending = self.0.request_encoded(method, &params_json).await?;
            Ok(PendingReply::new(
                pending.id().clone(),
                Box::pin(pending.reply()),
            ))
        })
    }
}

/// Bound for a single wait (debug build on a shared, busy machine).
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Harness {
    pub mock: MockServer,
    pub runtime: Runtime,
    /// Answers the runtime's requests: `client.resolve(id, reply)`.
    pub client: Peer,
    caller: Caller,
    rx: mpsc::Receiver<Frame>,
    /// Every message received so far, in order.
    pub log: Vec<Value>,
    _home: TempDir,
    _root: TempDir,
    /// The thread's working directory (canonical).
    pub cwd: PathBuf,
    /// A directory next to `cwd`, outside it.
    pub outside: PathBuf,
}

impl Harness {
    pub async fn new() -> Harness {
        let mock = MockServer::start().await.expect("mock server");
        let home = tempfile::tempdir().expect("home");
        let root = tempfile::tempdir().expect("root");
        let base = root.path().canonicalize().expect("canonical root");
        let cwd = base.join("workspace");
        let outside = base.join("outside");
        std::fs::create_dir_all(&cwd).expect("workspace");
        std::fs::create_dir_all(&outside).expect("outside");
        let overrides = parse_overrides(&[
            r#"model="mock-model""#.to_string(),
            r#"model_provider="mock""#.to_string(),
            format!(
                r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#,
                mock.url()
            ),
        ])
        .expect("overrides");
        let config = Config::load_from(home.path().to_path_buf(), overrides).expect("config");
        let (client, outbox) = Peer::new(1024);
        let rx = outbox.frames;
        let options = RuntimeOptions {
            default_cwd: cwd.clone(),
            home_dir: None,
        };
        let runtime =
            Runtime::new(config, Arc::new(PeerSink(client.clone())), options).expect("runtime");
        Harness {
            mock,
            runtime,
            client,
            caller: Caller::default(),
            rx,
            log: Vec::new(),
            _home: home,
            _root: root,
            cwd,
            outside,
        }
    }

    /// Starts a thread in `cwd` with extra `thread/start` params; returns its id.
    pub async fn thread(&self, params: Value) -> String {
        let mut p = json!({"cwd": self.cwd.display().to_string()});
        if let (Some(dst), Some(src)) = (p.as_object_mut(), params.as_object()) {
            for (k, v) in src {
                dst.insert(k.clone(), v.clone());
            }
        }
        let (reply, answer) = codex_core::Reply::channel();
        self.runtime
            .start_thread(
                &self.caller,
                serde_json::from_value(p).expect("thread params"),
                reply,
            )
            .await;
        let resp = answer.await.expect("answered").expect("thread/start");
        resp.thread.id
    }

    /// Starts a turn with text input and extra `turn/start` params; returns the turn id.
    pub async fn turn_with(&self, thread_id: &str, text: &str, extra: Value) -> String {
        let mut p = json!({"threadId": thread_id, "input": [{"type": "text", "text": text}]});
        if let (Some(dst), Some(src)) = (p.as_object_mut(), extra.as_object()) {
            for (k, v) in src {
                dst.insert(k.clone(), v.clone());
            }
        }
        let (reply, answer) = codex_core::Reply::channel();
        self.runtime
            .start_turn(
                &self.caller,
                serde_json::from_value(p).expect("turn params"),
                reply,
            )
            .await;
        let resp = answer.await.expect("answered").expect("turn/start");
        resp.turn.id
    }

    /// `turn/interrupt`; returns once the turn has recorded its end.
    pub async fn interrupt(&self, thread_id: &str, turn_id: &str) {
        let (reply, answer) = codex_core::Reply::channel();
        let p = json!({"threadId": thread_id, "turnId": turn_id});
        self.runtime
            .interrupt_turn(serde_json::from_value(p).expect("interrupt params"), reply)
            .await;
        answer.await.expect("answered").expect("turn/interrupt");
    }

    pub async fn turn(&self, thread_id: &str, text: &str) -> String {
        self.turn_with(thread_id, text, json!({})).await
    }

    /// The next message from the server.
    pub async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; log so far: {:#?}", self.log))
            .expect("client channel closed");
        let v: Value = serde_json::from_str(frame.as_str()).expect("json line");
        self.log.push(v.clone());
        v
    }

    /// Reads until a message matches `pred` and returns it.
    pub async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self.next().await;
            if pred(&m) {
                return m;
            }
        }
    }

    /// Reads until the notification `method` and returns its params.
    pub async fn notification(&mut self, method: &str) -> Value {
        self.until(|m| m["method"] == method && m.get("id").is_none())
            .await["params"]
            .clone()
    }

    /// Reads until a server request; returns `(id, method, params)`.
    pub async fn request(&mut self) -> (i64, String, Value) {
        let m = self
            .until(|m| m.get("id").is_some() && m.get("method").is_some())
            .await;
        (
            m["id"].as_i64().expect("integer id"),
            m["method"].as_str().unwrap_or_default().to_string(),
            m["params"].clone(),
        )
    }

    pub fn reply(&self, id: i64, result: Value) {
        assert!(
            self.client.resolve(&RequestId::Integer(id), Ok(result)),
            "no pending request {id}"
        );
    }

    /// Reads until `turn/completed`; returns its `turn`.
    pub async fn turn_completed(&mut self) -> Value {
        self.notification("turn/completed").await["turn"].clone()
    }

    /// Messages of the log with this notification method.
    pub fn seen(&self, method: &str) -> Vec<Value> {
        self.log
            .iter()
            .filter(|m| m["method"] == method && m.get("id").is_none())
            .map(|m| m["params"].clone())
            .collect()
    }

    /// `item/started` / `item/completed` items of a given type, from the log.
    pub fn items(&self, method: &str, item_type: &str) -> Vec<Value> {
        self.seen(method)
            .into_iter()
            .map(|p| p["item"].clone())
            .filter(|i| i["type"] == item_type)
            .collect()
    }

    pub fn model_requests(&self) -> Vec<Value> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.body)
            .collect()
    }

    /// The output item for `call_id` in the last model request.
    pub fn output_for(&self, call_id: &str) -> Value {
        let reqs = self.model_requests();
        let last = reqs.last().expect("a model request");
        last["input"]
            .as_array()
            .expect("input array")
            .iter()
            .find(|i| {
                i["call_id"] == call_id
                    && matches!(
                        i["type"].as_str(),
                        Some("function_call_output" | "custom_tool_call_output")
                    )
            })
            .unwrap_or_else(|| panic!("no output for {call_id} in {last:#}"))
            .clone()
    }

    /// The text output for `call_id` in the last model request.
    pub fn output_text(&self, call_id: &str) -> String {
        self.output_for(call_id)["output"]
            .as_str()
            .expect("text output")
            .to_string()
    }
}

/// Fails the test when the kernel sandbox (Landlock) is missing: the tests that call this
/// check what the sandbox does, and CI machines have it.
pub fn require_sandbox() {
    let support = codex_exec::sandbox_support();
    assert!(
        support.available,
        "this test needs the Landlock sandbox, which is unavailable here: {:?}",
        support.reason
    );
}

/// One model response made of these function calls `(call_id, name, arguments)`.
pub fn calls(response_id: &str, calls: &[(&str, &str, Value)]) -> Reply {
    let mut events = vec![ev_created(response_id)];
    for (id, name, args) in calls {
        events.push(ev_function_call_item(id, name, args));
    }
    events.push(ev_completed(response_id, Usage::default()));
    Reply::Sse(events)
}

/// A polling helper for external state (the filesystem, /proc): checks `cond` up to `WAIT`.
pub async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        if cond() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
    }
}
