//! The `codex-mock-model` binary: prints its URL, serves the script then the default reply,
//! exits on stdin EOF.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::http;

#[tokio::test]
async fn binary_serves_default_message_and_exits_when_stdin_closes() {
    let script =
        std::env::temp_dir().join(format!("codex-mock-script-{}.json", std::process::id()));
    std::fs::write(
        &script,
        r#"[{"type":"status","status":503,"body":"scripted outage"},{"type":"message","text":"scripted","response_id":"s1"}]"#,
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_codex-mock-model"))
        .args([
            "--default-message",
            "bench answer",
            "--deltas",
            "4",
            "--script",
        ])
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(10), stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening ")
        .expect("listening line");
    let addr = url
        .strip_prefix("http://")
        .unwrap()
        .strip_suffix("/v1")
        .unwrap()
        .parse()
        .unwrap();
    let (status, text) = http(addr, "POST", "/v1/responses", "{}").await;
    assert_eq!(status, 503);
    assert!(text.ends_with("scripted outage"));
    let (_, text) = http(addr, "POST", "/v1/responses", "{}").await;
    assert!(text.contains("\"id\":\"s1\""), "{text}");
    let (status, text) = http(addr, "POST", "/v1/responses", "{}").await;
    std::fs::remove_file(&script).unwrap();
    assert_eq!(status, 200);
    assert_eq!(text.matches("event: response.output_text.delta").count(), 4);
    assert!(text.contains("bench answer"));
    drop(child.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn binary_rejects_unknown_flags() {
    let output = Command::new(env!("CARGO_BIN_EXE_codex-mock-model"))
        .arg("--bogus")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument --bogus"));
}
