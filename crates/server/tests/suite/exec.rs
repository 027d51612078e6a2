//! `codex exec PROMPT`: one turn, headless, through the same runtime as the app-server.

use super::harness::{codex_bin, Env};
use codex_mock_model::{assistant_message, Reply};
use std::process::Output;
use std::time::Duration;

async fn exec(env: &Env, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(codex_bin());
    for o in env.mock_overrides() {
        cmd.arg("-c").arg(o);
    }
    cmd.arg("exec")
        .args(args)
        .env("CODEX_HOME", env.home.path())
        .env("RUST_LOG", "warn")
        .current_dir(env.work.path())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("codex exec finished within 30 s")
        .expect("codex exec ran")
}

fn rollout_files(env: &Env) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![env.home.path().join("sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test]
async fn exec_prints_the_answer_and_persists_the_thread() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("e1", "hello from exec"));
    let out = exec(&env, &["Say", "hello"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout.trim(), "hello from exec");
    let requests = env.model_requests();
    assert_eq!(requests.len(), 1);
    assert!(super::harness::input_contains(&requests[0], "Say hello"));
    let files = rollout_files(&env);
    assert_eq!(files.len(), 1, "one thread persisted: {files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains("hello from exec"));
}

#[tokio::test]
async fn exec_json_streams_protocol_lines_ending_with_turn_completed() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("e2", "json mode"));
    let out = exec(&env, &["--json", "hi"]).await;
    assert!(out.status.success(), "{out:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    let last = lines.last().expect("some output");
    assert_eq!(last["method"], "turn/completed");
    assert_eq!(last["params"]["turn"]["status"], "completed");
    assert!(lines
        .iter()
        .any(|m| m["method"] == "item/agentMessage/delta"));
}

#[tokio::test]
async fn exec_fails_with_the_reason_when_the_model_fails() {
    let env = Env::new().await;
    env.mock.enqueue(Reply::status(500, "the model fell over"));
    let out = exec(&env, &["hi"]).await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed"), "{stderr}");
}

#[tokio::test]
async fn exec_without_a_prompt_is_a_usage_error() {
    let env = Env::new().await;
    let out = exec(&env, &[]).await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exec needs a prompt"));
}
