//! The process layer: commands on a pseudo-terminal (controlling tty, echo,
//! `\r\n`, resize), stdin streaming over pipes, kill, under the sandboxes.

use std::time::Duration;

use codex_exec::{ControlError, Process, ProcessIo, SandboxPolicy, TerminalSize};
use tokio::sync::mpsc;

use super::{
    output_until, output_until_count, pid_alive, proc_stat_fields, read_only, require_landlock,
    scratch_dir, spec, wait_until, workspace_write, TEST_TIMEOUT,
};

fn tty(rows: u16, cols: u16) -> ProcessIo {
    ProcessIo::Pty {
        size: TerminalSize { rows, cols },
    }
}

async fn wait_exit(process: &Process) -> i32 {
    tokio::time::timeout(TEST_TIMEOUT, process.wait())
        .await
        .expect("process did not exit")
}

#[tokio::test]
async fn python_repl_on_a_terminal_echoes_and_answers() {
    let dir = scratch_dir();
    let (tx, mut rx) = mpsc::channel(64);
    let process = Process::spawn(
        spec(
            &["python3", "-q", "-i"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            tty(24, 80),
        ),
        tx,
    )
    .unwrap();
    assert!(process.is_tty());
    let mut seen = String::new();
    output_until(&mut rx, &mut seen, ">>> ").await;
    process.write_stdin(b"print(6*7)\n").await.unwrap();
    output_until(&mut rx, &mut seen, "42\r\n").await;
    // The terminal echoed the input, with the tty's own line ending.
    assert!(seen.contains("print(6*7)\r\n"), "{seen:?}");
    // Ctrl-D (typed by close_stdin) at the next prompt ends the REPL. Like a
    // person, wait for that prompt: typed-ahead input can be discarded when
    // readline switches the terminal mode.
    output_until_count(&mut rx, &mut seen, ">>> ", 2).await;
    process.close_stdin().await.unwrap();
    assert_eq!(wait_exit(&process).await, 0);
    assert!(matches!(
        process.write_stdin(b"x").await,
        Err(ControlError::StdinClosed)
    ));
}

#[tokio::test]
async fn the_terminal_is_the_controlling_tty_of_a_new_session() {
    let dir = scratch_dir();
    let (tx, mut rx) = mpsc::channel(64);
    let script = "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; \
                  exec 3</dev/tty && echo ctty-ok; echo ready; read line";
    let process = Process::spawn(
        spec(
            &["sh", "-c", script],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            tty(24, 80),
        ),
        tx,
    )
    .unwrap();
    let mut seen = String::new();
    output_until(&mut rx, &mut seen, "ready\r\n").await;
    assert!(seen.starts_with("/dev/pts/"), "{seen:?}");
    assert!(seen.contains("all-tty\r\nctty-ok\r\n"), "{seen:?}");
    // Own session and process group, with a terminal attached.
    let pid = process.id() as i32;
    let fields = proc_stat_fields(pid);
    assert_eq!(fields[2], pid.to_string(), "pgrp: {fields:?}");
    assert_eq!(fields[3], pid.to_string(), "session: {fields:?}");
    assert_ne!(fields[4], "0", "tty_nr: {fields:?}");
    process.write_stdin(b"\n").await.unwrap();
    assert_eq!(wait_exit(&process).await, 0);
}

#[tokio::test]
async fn resize_is_in_effect_when_it_returns() {
    let dir = scratch_dir();
    let (tx, mut rx) = mpsc::channel(64);
    let script = "stty size; echo ready; read line; stty size";
    let process = Process::spawn(
        spec(
            &["sh", "-c", script],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            tty(30, 90),
        ),
        tx,
    )
    .unwrap();
    let mut seen = String::new();
    output_until(&mut rx, &mut seen, "ready\r\n").await;
    assert!(seen.starts_with("30 90\r\n"), "{seen:?}");
    process
        .resize(TerminalSize {
            rows: 50,
            cols: 120,
        })
        .unwrap();
    process.write_stdin(b"\n").await.unwrap();
    output_until(&mut rx, &mut seen, "50 120\r\n").await;
    assert!(matches!(
        process.resize(TerminalSize { rows: 0, cols: 10 }),
        Err(ControlError::InvalidSize)
    ));
    assert_eq!(wait_exit(&process).await, 0);
}

#[tokio::test]
async fn terminals_work_under_read_only_and_workspace_write() {
    require_landlock();
    let dir = scratch_dir();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let script = "tty >/dev/null && echo on-tty; exec 3</dev/tty && echo ctty-ok; \
                  (echo x > here.txt) 2>/dev/null && echo wrote-cwd || echo cwd-denied; \
                  (echo x > .git/hook) 2>/dev/null && echo wrote-git || echo git-denied; \
                  read line; echo got:$line";
    for (policy, cwd_result) in [
        (read_only(), "cwd-denied"),
        (workspace_write(), "wrote-cwd"),
    ] {
        let (tx, mut rx) = mpsc::channel(64);
        let process = Process::spawn(
            spec(
                &["sh", "-c", script],
                dir.path(),
                policy.clone(),
                tty(24, 80),
            ),
            tx,
        )
        .unwrap();
        let mut seen = String::new();
        output_until(&mut rx, &mut seen, "-denied\r\n").await;
        output_until(&mut rx, &mut seen, "git-denied\r\n").await;
        assert!(
            seen.starts_with("on-tty\r\nctty-ok\r\n"),
            "{policy:?}: {seen:?}"
        );
        assert!(seen.contains(cwd_result), "{policy:?}: {seen:?}");
        process.write_stdin(b"hello\n").await.unwrap();
        output_until(&mut rx, &mut seen, "got:hello\r\n").await;
        assert_eq!(wait_exit(&process).await, 0, "{policy:?}");
    }
    assert!(!dir.path().join(".git/hook").exists());
}

#[tokio::test]
async fn piped_stdin_streams_and_closes() {
    let dir = scratch_dir();
    let (tx, mut rx) = mpsc::channel(64);
    let process = Process::spawn(
        spec(
            &["sh", "-c", "cat; echo done >&2"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            ProcessIo::Pipes { stdin: true },
        ),
        tx,
    )
    .unwrap();
    assert!(!process.is_tty());
    process.write_stdin(b"abc\n").await.unwrap();
    let mut seen = String::new();
    // No terminal: no echo, no \r.
    output_until(&mut rx, &mut seen, "abc\n").await;
    assert_eq!(seen, "abc\n");
    process.close_stdin().await.unwrap();
    output_until(&mut rx, &mut seen, "done\n").await;
    assert_eq!(wait_exit(&process).await, 0);
    assert!(matches!(
        process.write_stdin(b"late").await,
        Err(ControlError::StdinClosed)
    ));
    assert!(matches!(
        process.resize(TerminalSize::default()),
        Err(ControlError::NotATerminal)
    ));
}

#[tokio::test]
async fn stdin_on_dev_null_cannot_be_written() {
    let dir = scratch_dir();
    let (tx, _rx) = mpsc::channel(64);
    let process = Process::spawn(
        spec(
            &["sleep", "1000"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            ProcessIo::Pipes { stdin: false },
        ),
        tx,
    )
    .unwrap();
    assert!(matches!(
        process.write_stdin(b"x").await,
        Err(ControlError::StdinNotStreamed)
    ));
    assert!(matches!(
        process.close_stdin().await,
        Err(ControlError::StdinNotStreamed)
    ));
    process.kill();
    assert_eq!(wait_exit(&process).await, 128 + 9);
}

#[tokio::test]
async fn kill_takes_the_whole_group_on_a_terminal() {
    let dir = scratch_dir();
    let (tx, mut rx) = mpsc::channel(64);
    let process = Process::spawn(
        spec(
            &["sh", "-c", "sleep 1000 & echo grandchild=$!; wait"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            tty(24, 80),
        ),
        tx,
    )
    .unwrap();
    let mut seen = String::new();
    output_until(&mut rx, &mut seen, "\r\n").await;
    let grandchild: i32 = seen
        .trim()
        .trim_start_matches("grandchild=")
        .parse()
        .unwrap();
    assert!(pid_alive(grandchild));
    process.kill();
    assert_eq!(wait_exit(&process).await, 137);
    assert!(
        wait_until(Duration::from_secs(5), || !pid_alive(grandchild)).await,
        "grandchild {grandchild} survived"
    );
}
