//! The `command/exec` process registry: every path, every refusal.

use std::path::Path;

use codex_exec::{
    CommandExecDelta, CommandExecError, CommandExecEvent, CommandExecRequest, CommandExecResult,
    OutputStream, ProcessRegistry, SandboxPolicy, TerminalSize,
};
use tokio::sync::mpsc;

use super::{base_env, read_only, require_landlock, scratch_dir, TEST_TIMEOUT};

fn request(command: &[&str], cwd: &Path) -> CommandExecRequest {
    CommandExecRequest {
        command: command.iter().map(|s| s.to_string()).collect(),
        cwd: cwd.to_path_buf(),
        env: base_env(),
        sandbox: SandboxPolicy::DangerFullAccess,
        timeout_ms: None,
        disable_timeout: false,
        tty: false,
        size: None,
        stream_stdin: false,
        stream_stdout_stderr: false,
        process_id: None,
        output_bytes_cap: None,
        disable_output_cap: false,
    }
}

fn streaming(command: &[&str], cwd: &Path, process_id: &str) -> CommandExecRequest {
    CommandExecRequest {
        process_id: Some(process_id.to_string()),
        stream_stdout_stderr: true,
        ..request(command, cwd)
    }
}

async fn next(events: &mut mpsc::Receiver<CommandExecEvent>) -> CommandExecEvent {
    tokio::time::timeout(TEST_TIMEOUT, events.recv())
        .await
        .expect("timed out waiting for a command/exec event")
        .expect("event channel closed before the result")
}

/// All deltas up to the result, and the result; nothing may follow it.
async fn finish(
    mut events: mpsc::Receiver<CommandExecEvent>,
) -> (Vec<CommandExecDelta>, CommandExecResult) {
    let mut deltas = Vec::new();
    loop {
        match next(&mut events).await {
            CommandExecEvent::Output(delta) => deltas.push(delta),
            CommandExecEvent::Finished(result) => {
                assert!(events.recv().await.is_none(), "events after the result");
                return (deltas, result);
            }
        }
    }
}

/// Reads deltas until their text (of any stream) contains `needle`.
async fn deltas_until(
    events: &mut mpsc::Receiver<CommandExecEvent>,
    seen: &mut String,
    needle: &str,
) {
    while !seen.contains(needle) {
        match next(events).await {
            CommandExecEvent::Output(delta) => {
                seen.push_str(&String::from_utf8_lossy(&delta.bytes))
            }
            CommandExecEvent::Finished(result) => {
                panic!("finished before {needle:?}: {result:?}, output {seen:?}")
            }
        }
    }
}

fn text_of(deltas: &[CommandExecDelta], stream: OutputStream) -> String {
    let bytes: Vec<u8> = deltas
        .iter()
        .filter(|d| d.stream == stream)
        .flat_map(|d| d.bytes.clone())
        .collect();
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn buffered_command_returns_exit_code_stdout_and_stderr() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(request(
            &["sh", "-c", "echo out; echo err >&2; exit 3"],
            dir.path(),
        ))
        .unwrap();
    let (deltas, result) = finish(events).await;
    assert!(deltas.is_empty());
    assert_eq!(
        result,
        CommandExecResult {
            exit_code: 3,
            stdout: "out\n".to_string(),
            stderr: "err\n".to_string()
        }
    );
}

#[tokio::test]
async fn streamed_output_comes_as_deltas_before_an_empty_result() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(streaming(
            &["sh", "-c", "echo out1; echo err1 >&2; echo out2"],
            dir.path(),
            "p1",
        ))
        .unwrap();
    let (deltas, result) = finish(events).await;
    assert_eq!(result.exit_code, 0);
    assert_eq!((result.stdout.as_str(), result.stderr.as_str()), ("", ""));
    assert!(deltas
        .iter()
        .all(|d| d.process_id == "p1" && !d.cap_reached));
    assert_eq!(text_of(&deltas, OutputStream::Stdout), "out1\nout2\n");
    assert_eq!(text_of(&deltas, OutputStream::Stderr), "err1\n");
    assert!(registry.active_process_ids().is_empty());
}

#[tokio::test]
async fn a_tty_sends_everything_as_stdout() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(CommandExecRequest {
            tty: true,
            process_id: Some("tty".to_string()),
            ..request(&["sh", "-c", "echo hi; echo there >&2; tty"], dir.path())
        })
        .unwrap();
    let (deltas, result) = finish(events).await;
    assert_eq!(result.exit_code, 0);
    assert!(deltas.iter().all(|d| d.stream == OutputStream::Stdout));
    let text = text_of(&deltas, OutputStream::Stdout);
    assert!(text.starts_with("hi\r\nthere\r\n/dev/pts/"), "{text:?}");
}

#[tokio::test]
async fn stdin_is_written_and_closed() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let mut events = registry
        .start(CommandExecRequest {
            stream_stdin: true,
            ..streaming(&["sh", "-c", "cat; echo eof"], dir.path(), "cat")
        })
        .unwrap();
    registry.write("cat", b"abc\n", false).await.unwrap();
    let mut seen = String::new();
    deltas_until(&mut events, &mut seen, "abc\n").await;
    registry.write("cat", b"def", true).await.unwrap();
    // Closing twice is fine; writing after close is not.
    registry.write("cat", b"", true).await.unwrap();
    assert!(matches!(
        registry.write("cat", b"more", false).await,
        Err(CommandExecError::StdinClosed)
    ));
    let (deltas, result) = finish(events).await;
    assert_eq!(result.exit_code, 0);
    seen.push_str(&text_of(&deltas, OutputStream::Stdout));
    assert_eq!(seen, "abc\ndefeof\n");
}

#[tokio::test]
async fn writing_needs_stream_stdin() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(streaming(&["sleep", "1000"], dir.path(), "no-stdin"))
        .unwrap();
    let err = registry.write("no-stdin", b"x", false).await.unwrap_err();
    assert!(matches!(err, CommandExecError::StdinNotStreamed));
    assert_eq!(
        err.to_string(),
        "stdin streaming is not enabled for this command/exec"
    );
    assert!(matches!(
        registry.resize("no-stdin", TerminalSize::default()),
        Err(CommandExecError::NotATerminal(_))
    ));
    registry.terminate("no-stdin").unwrap();
    assert_eq!(finish(events).await.1.exit_code, 137);
}

#[tokio::test]
async fn terminate_kills_the_group_and_reports_137() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let mut events = registry
        .start(streaming(
            &["sh", "-c", "sleep 1000 & echo bg=$!; wait"],
            dir.path(),
            "long",
        ))
        .unwrap();
    let mut seen = String::new();
    deltas_until(&mut events, &mut seen, "\n").await;
    let grandchild: i32 = seen.trim().trim_start_matches("bg=").parse().unwrap();
    assert_eq!(registry.active_process_ids(), vec!["long".to_string()]);
    registry.terminate("long").unwrap();
    let (_, result) = finish(events).await;
    assert_eq!(result.exit_code, 137);
    assert!(!super::pid_alive(grandchild));
    // Gone once finished.
    assert!(matches!(
        registry.terminate("long"),
        Err(CommandExecError::UnknownProcessId(id)) if id == "long"
    ));
}

#[tokio::test]
async fn timeout_kills_and_reports_124() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let started = std::time::Instant::now();
    let events = registry
        .start(CommandExecRequest {
            timeout_ms: Some(300),
            ..request(&["sh", "-c", "echo before; sleep 1000"], dir.path())
        })
        .unwrap();
    let (_, result) = finish(events).await;
    assert_eq!(result.exit_code, 124);
    assert_eq!(result.stdout, "before\n");
    assert!(started.elapsed() < TEST_TIMEOUT);
}

#[tokio::test]
async fn resize_is_in_effect_when_it_returns() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let mut events = registry
        .start(CommandExecRequest {
            tty: true,
            size: Some(TerminalSize { rows: 30, cols: 90 }),
            process_id: Some("term".to_string()),
            ..request(&["sh", "-c", "stty size; read line; stty size"], dir.path())
        })
        .unwrap();
    let mut seen = String::new();
    deltas_until(&mut events, &mut seen, "30 90\r\n").await;
    registry
        .resize(
            "term",
            TerminalSize {
                rows: 50,
                cols: 120,
            },
        )
        .unwrap();
    assert!(matches!(
        registry.resize("term", TerminalSize { rows: 0, cols: 5 }),
        Err(CommandExecError::InvalidSize)
    ));
    // A tty streams stdin without asking.
    registry.write("term", b"\n", false).await.unwrap();
    deltas_until(&mut events, &mut seen, "50 120\r\n").await;
    assert_eq!(finish(events).await.1.exit_code, 0);
}

#[tokio::test]
async fn output_caps_apply_per_stream() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let script = "head -c 100 /dev/zero | tr '\\0' o; head -c 100 /dev/zero | tr '\\0' e >&2";
    let events = registry
        .start(CommandExecRequest {
            output_bytes_cap: Some(10),
            ..streaming(&["sh", "-c", script], dir.path(), "capped")
        })
        .unwrap();
    let (deltas, result) = finish(events).await;
    assert_eq!(result.exit_code, 0);
    assert_eq!(text_of(&deltas, OutputStream::Stdout), "o".repeat(10));
    assert_eq!(text_of(&deltas, OutputStream::Stderr), "e".repeat(10));
    for stream in [OutputStream::Stdout, OutputStream::Stderr] {
        let last = deltas.iter().rev().find(|d| d.stream == stream).unwrap();
        assert!(last.cap_reached, "{stream:?}");
    }
    // Buffered, the cap bounds the response instead.
    let events = registry
        .start(CommandExecRequest {
            output_bytes_cap: Some(10),
            ..request(&["sh", "-c", script], dir.path())
        })
        .unwrap();
    let (_, result) = finish(events).await;
    assert_eq!(result.stdout, "o".repeat(10));
    assert_eq!(result.stderr, "e".repeat(10));
    // Without a cap everything arrives.
    let events = registry
        .start(CommandExecRequest {
            disable_output_cap: true,
            ..request(&["sh", "-c", script], dir.path())
        })
        .unwrap();
    assert_eq!(finish(events).await.1.stdout, "o".repeat(100));
}

#[tokio::test]
async fn the_sandbox_applies_and_denies() {
    require_landlock();
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(CommandExecRequest {
            sandbox: read_only(),
            ..request(&["sh", "-c", "echo x > denied.txt"], dir.path())
        })
        .unwrap();
    let (_, result) = finish(events).await;
    assert_ne!(result.exit_code, 0);
    assert!(
        result.stderr.contains("Read-only file system")
            || result.stderr.contains("Permission denied"),
        "{result:?}"
    );
    assert!(!dir.path().join("denied.txt").exists());
    // A terminal under the same sandbox.
    let events = registry
        .start(CommandExecRequest {
            sandbox: read_only(),
            tty: true,
            process_id: Some("ro-tty".to_string()),
            ..request(
                &[
                    "sh",
                    "-c",
                    "tty >/dev/null && (echo x > f) 2>/dev/null || echo denied",
                ],
                dir.path(),
            )
        })
        .unwrap();
    let (deltas, result) = finish(events).await;
    assert_eq!(result.exit_code, 0);
    assert_eq!(text_of(&deltas, OutputStream::Stdout), "denied\r\n");
}

#[tokio::test]
async fn requests_are_validated() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let base = || request(&["true"], dir.path());
    let refused = |req: CommandExecRequest| registry.start(req).err().map(|e| e.to_string());
    assert_eq!(
        refused(CommandExecRequest {
            tty: true,
            ..base()
        }),
        Some("command/exec tty or streaming requires a client-supplied processId".to_string())
    );
    for req in [
        CommandExecRequest {
            stream_stdin: true,
            ..base()
        },
        CommandExecRequest {
            stream_stdout_stderr: true,
            ..base()
        },
    ] {
        assert!(matches!(
            registry.start(req),
            Err(CommandExecError::ProcessIdRequired)
        ));
    }
    assert_eq!(
        refused(CommandExecRequest {
            size: Some(TerminalSize::default()),
            ..base()
        }),
        Some("command/exec size requires tty: true".to_string())
    );
    assert!(matches!(
        registry.start(CommandExecRequest {
            tty: true,
            process_id: Some("z".to_string()),
            size: Some(TerminalSize { rows: 0, cols: 80 }),
            ..base()
        }),
        Err(CommandExecError::InvalidSize)
    ));
    assert!(matches!(
        registry.start(CommandExecRequest {
            timeout_ms: Some(5),
            disable_timeout: true,
            ..base()
        }),
        Err(CommandExecError::TimeoutConflict)
    ));
    assert!(matches!(
        registry.start(CommandExecRequest {
            timeout_ms: Some(-1),
            ..base()
        }),
        Err(CommandExecError::NegativeTimeout(-1))
    ));
    assert!(matches!(
        registry.start(CommandExecRequest {
            output_bytes_cap: Some(5),
            disable_output_cap: true,
            ..base()
        }),
        Err(CommandExecError::OutputCapConflict)
    ));
    assert!(matches!(
        registry.start(request(&[], dir.path())),
        Err(CommandExecError::EmptyCommand)
    ));
    assert!(matches!(
        registry.start(request(&["/definitely/not/here"], dir.path())),
        Err(CommandExecError::Spawn(_))
    ));
    // Nothing was left behind by the refusals.
    assert!(registry.active_process_ids().is_empty());
}

#[tokio::test]
async fn process_ids_are_unique_and_must_exist() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(streaming(&["sleep", "1000"], dir.path(), "dup"))
        .unwrap();
    let err = registry
        .start(streaming(&["true"], dir.path(), "dup"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate active command/exec process id: \"dup\""
    );
    let unknown = "no active command/exec for process id \"nope\"";
    assert_eq!(
        registry
            .write("nope", b"x", false)
            .await
            .unwrap_err()
            .to_string(),
        unknown
    );
    assert_eq!(
        registry
            .resize("nope", TerminalSize::default())
            .unwrap_err()
            .to_string(),
        unknown
    );
    assert_eq!(registry.terminate("nope").unwrap_err().to_string(), unknown);
    registry.terminate("dup").unwrap();
    assert_eq!(finish(events).await.1.exit_code, 137);
    // The id is free again once the first command finished.
    let events = registry
        .start(streaming(&["true"], dir.path(), "dup"))
        .unwrap();
    assert_eq!(finish(events).await.1.exit_code, 0);
}

#[tokio::test]
async fn a_dropped_event_receiver_kills_the_command() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let events = registry
        .start(streaming(
            &["sh", "-c", "while :; do echo tick; sleep 0.05; done"],
            dir.path(),
            "orphan",
        ))
        .unwrap();
    drop(events);
    // The next delta fails to send, which kills the command; it leaves the
    // registry once reaped.
    assert!(
        super::wait_until(TEST_TIMEOUT, || registry.active_process_ids().is_empty()).await,
        "{:?}",
        registry.active_process_ids()
    );
}
