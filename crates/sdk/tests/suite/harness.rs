//! Test harness: a temp CODEX_HOME and workspace, the scripted mock model
//! ([`codex_mock_model::MockServer`]) and a [`CodexConfig`] that launches a `codex` binary
//! against them. Every wait is bounded by [`WAIT`].

use codex_mock_model::{
    ev_created, ev_message_item_added, ev_output_text_delta, function_call, message_events,
    MockServer, Reply,
};
use codex_sdk::{Codex, CodexConfig};
use serde_json::{json, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::TempDir;

/// Bound for every single wait (a debug build on a shared 2-core machine).
pub const WAIT: Duration = Duration::from_secs(60);

/// Our debug `codex` binary, built by `scripts/test` before `cargo test`.
pub fn our_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("debug").join("codex");
    assert!(
        bin.is_file(),
        "the codex binary is missing at {}: build it first with `cargo build -p codex-cli` \
         (scripts/test does this before `cargo test`)",
        bin.display()
    );
    bin
}

/// `fut`, failing the test after [`WAIT`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// A CODEX_HOME, a workspace and the mock model, for one binary.
pub struct Env {
    pub home: TempDir,
    pub work: TempDir,
    pub mock: MockServer,
    pub bin: PathBuf,
}

impl Env {
    /// For our binary.
    pub async fn new() -> Env {
        Env::with_binary(our_binary()).await
    }

    pub async fn with_binary(bin: PathBuf) -> Env {
        Env {
            home: tempfile::tempdir().unwrap(),
            work: tempfile::tempdir().unwrap(),
            mock: MockServer::start().await.unwrap(),
            bin,
        }
    }

    /// `--config` overrides sending model traffic to the mock, without retries (the shape
    /// the official binary accepts too).
    pub fn overrides(&self) -> Vec<String> {
        vec![
            r#"model="mock-model""#.to_string(),
            r#"model_provider="mock""#.to_string(),
            format!(
                r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0, requires_openai_auth=false}}"#,
                self.mock.url()
            ),
        ]
    }

    pub fn config(&self) -> CodexConfig {
        let mut config = CodexConfig::default()
            .codex_bin(&self.bin)
            .cwd(self.work.path())
            .env("CODEX_HOME", self.home.path())
            .env("CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG", "1")
            .env("RUST_LOG", "warn")
            .request_timeout(WAIT)
            .turn_idle_timeout(WAIT);
        config.config_overrides = self.overrides();
        config
    }

    pub async fn launch(&self) -> Codex {
        self.launch_with(self.config()).await
    }

    pub async fn launch_with(&self, config: CodexConfig) -> Codex {
        within("launch", Codex::launch(config)).await.unwrap()
    }

    /// Bodies of the model requests (`POST`s), in arrival order.
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
            let seen = self.mock.requests().len();
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "timed out waiting for {n} model requests");
            let _ = self.mock.wait_for_requests(seen + 1, left).await;
        }
    }

    /// Queues a streamed answer that sends `first`, then waits for `mock.release()` before
    /// sending `rest` and completing.
    pub fn enqueue_gated(&self, response_id: &str, first: &str, rest: &str) {
        let item = format!("msg_{response_id}");
        // message_events: created, item added, part added, delta(first), delta(rest), done,
        // completed.
        let all = message_events(response_id, &[first, rest]);
        self.mock.enqueue(Reply::Gated {
            before: vec![
                ev_created(response_id),
                ev_message_item_added(&item),
                ev_output_text_delta(&item, first),
            ],
            gate: self.mock.gate(),
            after: all[4..].to_vec(),
        });
    }

    pub fn workspace_file(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }
}

/// A model reply calling `exec_command` with `cmd`.
pub fn exec(response_id: &str, call_id: &str, cmd: &str) -> Reply {
    function_call(
        response_id,
        call_id,
        "exec_command",
        &json!({"cmd": cmd, "login": false}),
    )
}

/// Whether any text of a model request's `input` contains `needle`.
pub fn input_contains(body: &Value, needle: &str) -> bool {
    body["input"].to_string().contains(needle)
}

/// The `function_call_output` items a model request sent back.
#[cfg_attr(not(feature = "conformance"), allow(dead_code))]
pub fn tool_outputs(body: &Value) -> Vec<Value> {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|item| item["type"] == "function_call_output")
        .cloned()
        .collect()
}
