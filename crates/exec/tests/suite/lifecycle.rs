//! Exit codes, stderr, timeouts, cancellation, output caps and streaming.

use std::time::{Duration, Instant};

use codex_exec::{run, ExecError, OutputStream, SandboxPolicy};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{live_group_members, request, scratch_dir, sh, wait_until};

#[tokio::test]
async fn echo_output_and_exit_codes() {
    let dir = scratch_dir();
    let out = sh(
        "echo hello; exit 3",
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    )
    .await
    .unwrap();
    assert_eq!(out.exit_code, 3);
    assert_eq!(out.stdout, "hello\n");
    assert_eq!(out.aggregated_output, "hello\n");
    assert!(!out.timed_out);
    let ok = sh("true", dir.path(), SandboxPolicy::DangerFullAccess)
        .await
        .unwrap();
    assert_eq!(ok.exit_code, 0);
    let killed = sh("kill -TERM $$", dir.path(), SandboxPolicy::DangerFullAccess)
        .await
        .unwrap();
    assert_eq!(killed.exit_code, 128 + 15);
}

#[tokio::test]
async fn stderr_is_captured_and_aggregated_in_order() {
    let dir = scratch_dir();
    let out = sh(
        "echo out1; echo err1 >&2; echo out2",
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, "out1\nout2\n");
    assert_eq!(out.stderr, "err1\n");
    for part in ["out1\n", "err1\n", "out2\n"] {
        assert!(
            out.aggregated_output.contains(part),
            "{:?}",
            out.aggregated_output
        );
    }
    assert_eq!(out.aggregated_output.len(), 15);
}

#[tokio::test]
async fn environment_is_exactly_the_given_one() {
    let dir = scratch_dir();
    let mut req = request(
        &["sh", "-c", "echo \"$FOO|$CARGO\""],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    req.env.insert("FOO".to_string(), "bar".to_string());
    let out = run(req, None, CancellationToken::new()).await.unwrap();
    assert_eq!(out.stdout, "bar|\n");
}

#[tokio::test]
async fn stdin_is_dev_null() {
    let dir = scratch_dir();
    let out = sh(
        "cat; echo done",
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, "done\n");
}

#[tokio::test]
async fn errors_for_empty_and_missing_programs() {
    let dir = scratch_dir();
    let empty = run(
        request(&[], dir.path(), SandboxPolicy::DangerFullAccess),
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(matches!(empty, Err(ExecError::EmptyCommand)));
    let missing = run(
        request(
            &["/definitely/not/here"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
        ),
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(missing, Err(ExecError::Spawn { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn timeout_kills_and_reports_124() {
    let dir = scratch_dir();
    let mut req = request(
        &["sh", "-c", "sleep 1000 & sleep 1000"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    req.timeout = Some(Duration::from_millis(200));
    let started = Instant::now();
    let out = run(req, None, CancellationToken::new()).await.unwrap();
    assert!(out.timed_out);
    assert_eq!(out.exit_code, 124);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn output_is_capped_keeping_head_and_tail() {
    let dir = scratch_dir();
    let mut req = request(
        &[
            "sh",
            "-c",
            "echo START; head -c 200000 /dev/zero | tr '\\0' x; echo; echo END",
        ],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    req.output_cap_bytes = 1000;
    let out = run(req, None, CancellationToken::new()).await.unwrap();
    assert_eq!(out.exit_code, 0);
    assert!(out.stdout.starts_with("START\n"), "{}", &out.stdout[..20]);
    assert!(out.stdout.ends_with("\nEND\n"));
    assert!(out.stdout.len() < 1100, "len {}", out.stdout.len());
    assert!(out.stdout.contains("bytes omitted"));
    assert!(out.aggregated_output.len() < 1100);
}

#[tokio::test]
async fn chunks_stream_before_exit() {
    let dir = scratch_dir();
    let fifo = dir.path().join("gate");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // The command cannot finish until we write to the FIFO, which we only do
    // after receiving its first chunk.
    let req = request(
        &["sh", "-c", "echo first; cat gate"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    let (tx, mut rx) = mpsc::channel(16);
    let handle = tokio::spawn(run(req, Some(tx), CancellationToken::new()));
    let chunk = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(chunk.stream, OutputStream::Stdout);
    assert_eq!(chunk.bytes, b"first\n");
    assert!(!handle.is_finished());
    let writer = tokio::task::spawn_blocking(move || std::fs::write(fifo, "second\n"));
    tokio::time::timeout(Duration::from_secs(10), writer)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let out = tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(out.stdout, "first\nsecond\n");
    let rest = rx.recv().await.unwrap();
    assert_eq!(rest.bytes, b"second\n");
}

#[tokio::test]
async fn cancel_kills_the_whole_process_tree() {
    let dir = scratch_dir();
    let req = request(
        &["sh", "-c", "sleep 1000 & sleep 1000 & echo $$; wait"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    let handle = tokio::spawn(run(req, Some(tx), cancel.clone()));
    let chunk = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let pgid: i32 = String::from_utf8(chunk.bytes)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The shell leads its own group: it and both sleeps are members.
    assert!(
        wait_until(Duration::from_secs(10), || live_group_members(pgid).len()
            >= 3)
        .await,
        "group members: {:?}",
        live_group_members(pgid)
    );
    let started = Instant::now();
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(result, Err(ExecError::Cancelled { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        wait_until(Duration::from_secs(5), || live_group_members(pgid)
            .is_empty())
        .await,
        "survivors: {:?}",
        live_group_members(pgid)
    );
}

#[tokio::test]
async fn background_stragglers_are_killed_after_exit() {
    let dir = scratch_dir();
    let out = sh(
        "sleep 1000 >/dev/null 2>&1 & echo $$",
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    )
    .await
    .unwrap();
    let pgid: i32 = out.stdout.trim().parse().unwrap();
    assert!(
        wait_until(Duration::from_secs(5), || live_group_members(pgid)
            .is_empty())
        .await,
        "survivors: {:?}",
        live_group_members(pgid)
    );
}

#[tokio::test]
async fn an_already_cancelled_token_never_spawns() {
    let dir = scratch_dir();
    let marker = dir.path().join("ran");
    let req = request(
        &["sh", "-c", "touch ran; echo started"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
    );
    let (tx, mut rx) = mpsc::channel(16);
    let cancel = CancellationToken::new();
    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(10), run(req, Some(tx), cancel))
        .await
        .unwrap();
    match result {
        Err(ExecError::Cancelled { partial }) => {
            // Never spawned: no exit status, no time spent, no output.
            assert_eq!(partial.exit_code, -1);
            assert_eq!(partial.duration, Duration::ZERO);
            assert_eq!(partial.aggregated_output, "");
        }
        other => panic!("expected Cancelled, got {other:?}"),
    }
    // No output was ever streamed and the command left no trace.
    assert!(rx.recv().await.is_none());
    assert!(!marker.exists(), "the command ran although cancelled");
}
