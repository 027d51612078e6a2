//! Model-facing formatting of real command results.

use codex_exec::{format_exec_output_for_model, SandboxPolicy};

use super::{scratch_dir, sh};

#[tokio::test]
async fn exec_command_format_for_a_real_run() {
    let dir = scratch_dir();
    let out = sh("echo hi", dir.path(), SandboxPolicy::DangerFullAccess)
        .await
        .unwrap();
    let text = format_exec_output_for_model(&out, "abc123", None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Chunk ID: abc123");
    assert!(
        lines[1].starts_with("Wall time: ") && lines[1].ends_with(" seconds"),
        "{}",
        lines[1]
    );
    let secs = lines[1]
        .trim_start_matches("Wall time: ")
        .trim_end_matches(" seconds");
    assert_eq!(secs.split('.').nth(1).map(str::len), Some(4));
    assert_eq!(
        &lines[2..],
        [
            "Process exited with code 0",
            "Original token count: 1",
            "Output:",
            "hi"
        ]
    );
}
