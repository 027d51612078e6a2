//! Spawning `codex` in a throwaway CODEX_HOME and Git working directory, pointed at the mock.

use codex_mock_model::MockServer;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;
use tempfile::TempDir;
use tokio::io::AsyncWriteExt;

/// Upper bound for any one command in these tests.
pub const WAIT: Duration = Duration::from_secs(30);

pub fn codex_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_codex"))
}

pub struct Env {
    pub home: TempDir,
    /// A Git working directory (exec refuses others without --skip-git-repo-check).
    pub work: TempDir,
    pub mock: MockServer,
}

impl Env {
    pub async fn new() -> Env {
        let work = tempfile::tempdir().expect("temp workdir");
        std::fs::create_dir(work.path().join(".git")).expect("marking the workdir a repository");
        Env {
            home: tempfile::tempdir().expect("temp CODEX_HOME"),
            work,
            mock: MockServer::start().await.expect("mock model server"),
        }
    }

    /// `-c` overrides routing the model to the mock with no retries.
    pub fn mock_overrides(&self) -> Vec<String> {
        vec![
            r#"model="mock-model""#.to_string(),
            r#"model_provider="mock""#.to_string(),
            format!(
                r#"model_providers.mock={{name="mock", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#,
                self.mock.url()
            ),
        ]
    }

    /// A `codex` command in this environment: CODEX_HOME, the work dir, no inherited keys.
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(codex_bin());
        cmd.env("CODEX_HOME", self.home.path())
            .env("RUST_LOG", "warn")
            .env_remove("OPENAI_API_KEY")
            .env_remove("CODEX_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .current_dir(self.work.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// `codex exec` with the mock overrides, `args`, and `stdin` written then closed.
    pub async fn exec(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command();
        cmd.arg("exec");
        for o in self.mock_overrides() {
            cmd.arg("-c").arg(o);
        }
        cmd.args(args);
        run(cmd, stdin).await
    }

    /// Model requests (POSTs), in arrival order.
    pub fn model_requests(&self) -> Vec<serde_json::Value> {
        self.mock
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.body)
            .collect()
    }
}

/// Runs a prepared command to its end, feeding `stdin`.
pub async fn run(mut cmd: tokio::process::Command, stdin: &str) -> Output {
    let mut child = cmd.spawn().expect("spawning codex");
    let mut pipe = child.stdin.take().expect("stdin pipe");
    // A child that refuses early (usage errors, checks) exits without reading stdin.
    match pipe.write_all(stdin.as_bytes()).await {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("writing stdin: {e}"),
        _ => {}
    }
    drop(pipe);
    tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .expect("codex finished in time")
        .expect("codex ran")
}

/// Every stdout line parsed as JSON.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// The event types of a JSON stream, in order.
pub fn types(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Whether any text part of a model request's input contains `needle`.
pub fn input_contains(body: &serde_json::Value, needle: &str) -> bool {
    body["input"].to_string().contains(needle)
}
