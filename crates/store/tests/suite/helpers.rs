//! Shared fixtures: new-thread parameters, typical rollout entries, official rollout copies.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use codex_store::{NewThread, RolloutEntry};
use serde_json::json;

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("valid time")
}

pub fn new_thread(id: &str, cwd: &str, created_at: DateTime<Utc>) -> NewThread {
    NewThread {
        id: id.to_string(),
        cwd: PathBuf::from(cwd),
        originator: "codex_python_sdk".to_string(),
        cli_version: "0.163.0".to_string(),
        source: json!("vscode"),
        model_provider: "openai".to_string(),
        model: Some("gpt-test".to_string()),
        base_instructions: Some("You are a test agent.".to_string()),
        dynamic_tools: None,
        forked_from_id: None,
        created_at,
    }
}

/// The legacy `user_message` event.
pub fn user_message(text: &str) -> RolloutEntry {
    RolloutEntry::new(
        "event_msg",
        json!({"type": "user_message", "message": text, "images": []}),
    )
}

/// The 0.163 `item_completed` user message event.
pub fn user_item(text: &str) -> RolloutEntry {
    RolloutEntry::new(
        "event_msg",
        json!({"type": "item_completed", "thread_id": "x", "turn_id": "t",
               "item": {"type": "UserMessage", "id": "u1",
                        "content": [{"type": "text", "text": text, "text_elements": []}]}}),
    )
}

pub fn response_item(text: &str) -> RolloutEntry {
    RolloutEntry::new(
        "response_item",
        json!({"type": "message", "role": "assistant",
               "content": [{"type": "output_text", "text": text}]}),
    )
}

pub fn turn_context(model: &str) -> RolloutEntry {
    RolloutEntry::new(
        "turn_context",
        json!({"cwd": "/w", "approval_policy": "never", "sandbox_policy": {"type": "read-only"},
               "model": model, "summary": "auto"}),
    )
}

/// Copies a fixture tree (captured from the official binary, placeholders substituted)
/// into `home`, as if that binary had written it.
pub fn copy_fixture(name: &str, home: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    copy_tree(&src, home);
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read fixture dir") {
        let entry = entry.expect("entry");
        let target = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Raw lines of a file, parsed as JSON (panics on a bad line).
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid json line"))
        .collect()
}
