//! Interactive sessions and the per-thread session table behind the model's
//! `exec_command` / `write_stdin` tools.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use codex_exec::{
    new_chunk_id, ProcessIo, SandboxPolicy, SessionLimits, SessionOwner, SessionTable,
    TerminalSize, UnifiedExecOutput, UnifiedExecStatus, WriteStdinError,
};
use tokio::sync::mpsc;

use super::{
    output_until, pid_alive, require_landlock, scratch_dir, spec, wait_until, workspace_write,
    TEST_TIMEOUT,
};

const TTY: ProcessIo = ProcessIo::Pty {
    size: TerminalSize { rows: 24, cols: 80 },
};
const NO_STDIN: ProcessIo = ProcessIo::Pipes { stdin: false };

fn text(output: &UnifiedExecOutput) -> String {
    String::from_utf8_lossy(&output.output).into_owned()
}

fn owner(turn: &str) -> SessionOwner {
    SessionOwner {
        turn_id: turn.to_string(),
        item_id: format!("call-{turn}"),
    }
}

/// The session id as a model reads it from the tool result.
fn session_id_in(model_text: &str) -> Option<i32> {
    model_text
        .lines()
        .find_map(|l| l.strip_prefix("Process running with session ID "))
        .map(|n| n.parse().unwrap())
}

async fn start(
    table: &SessionTable,
    turn: &str,
    argv: &[&str],
    cwd: &Path,
    sandbox: SandboxPolicy,
    io: ProcessIo,
    yield_ms: u64,
) -> (i32, codex_exec::ExecCommandOutcome) {
    let id = table.reserve_id();
    let outcome = table
        .exec_command(
            id,
            owner(turn),
            spec(argv, cwd, sandbox, io),
            SessionLimits::default(),
            Some(yield_ms),
            None,
        )
        .await
        .unwrap();
    (id, outcome)
}

/// Polls (empty writes) until the session reports its exit; returns all output.
async fn poll_to_exit(table: &SessionTable, id: i32, seen: &mut String) -> i32 {
    let deadline = Instant::now() + TEST_TIMEOUT;
    loop {
        assert!(
            Instant::now() < deadline,
            "session {id} did not exit: {seen:?}"
        );
        let polled = table.write_stdin(id, b"", Some(5_000)).await.unwrap();
        seen.push_str(&text(&polled));
        if let UnifiedExecStatus::Exited { exit_code } = polled.status {
            return exit_code;
        }
    }
}

#[tokio::test]
async fn a_model_drives_a_python_repl() {
    let dir = scratch_dir();
    let table = SessionTable::new(8);
    let (id, started) = start(
        &table,
        "turn-1",
        &["python3", "-q", "-i"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
        TTY,
        1_000,
    )
    .await;
    let model_text = started.output.to_model_text(&new_chunk_id(), None);
    let lines: Vec<&str> = model_text.lines().collect();
    assert!(
        lines[0].starts_with("Chunk ID: ") && lines[0].len() == 16,
        "{model_text}"
    );
    assert!(lines[1].starts_with("Wall time: ") && lines[1].ends_with(" seconds"));
    assert_eq!(lines[2], format!("Process running with session ID {id}"));
    assert!(
        lines[3].starts_with("Original token count: "),
        "{model_text}"
    );
    assert_eq!(lines[4], "Output:");
    // As a model would: take the session id from the text.
    let session_id = session_id_in(&model_text).unwrap();
    assert_eq!(session_id, id);

    let mut seen = text(&started.output);
    let answer = table
        .write_stdin(session_id, b"print(6*7)\n", Some(2_000))
        .await
        .unwrap();
    seen.push_str(&text(&answer));
    let deadline = Instant::now() + TEST_TIMEOUT;
    while !seen.contains("42\r\n") {
        assert!(Instant::now() < deadline, "no answer: {seen:?}");
        let polled = table.write_stdin(session_id, b"", None).await.unwrap();
        assert_eq!(polled.status, UnifiedExecStatus::Running { session_id });
        seen.push_str(&text(&polled));
    }
    assert!(seen.contains("print(6*7)\r\n42\r\n"), "{seen:?}");

    let exited = table
        .write_stdin(session_id, b"exit()\n", Some(30_000))
        .await
        .unwrap();
    seen.push_str(&text(&exited));
    assert_eq!(exited.status, UnifiedExecStatus::Exited { exit_code: 0 });
    assert!(exited
        .to_model_text("abcdef", None)
        .contains("\nProcess exited with code 0\nOriginal token count: "));
    // Each call returned only new bytes: together they are the transcript.
    assert_eq!(seen, started.session.transcript().text);
    // A finished session is gone.
    let err = table.write_stdin(session_id, b"", None).await.unwrap_err();
    assert!(matches!(err, WriteStdinError::UnknownProcess(n) if n == session_id));
    assert_eq!(
        err.model_text(),
        format!("write_stdin failed: Unknown process id {session_id}")
    );
    assert!(table.ids().is_empty());
}

#[tokio::test]
async fn a_long_command_is_polled_to_its_exit() {
    let dir = scratch_dir();
    let table = SessionTable::default();
    let script = "for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done; exit 7";
    let (id, started) = start(
        &table,
        "turn-1",
        &["sh", "-c", script],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
        NO_STDIN,
        250,
    )
    .await;
    assert_eq!(
        started.output.status,
        UnifiedExecStatus::Running { session_id: id }
    );
    let mut seen = text(&started.output);
    assert_eq!(poll_to_exit(&table, id, &mut seen).await, 7);
    assert_eq!(seen, "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n");
    assert_eq!(started.session.exit_code(), Some(7));
}

#[tokio::test]
async fn a_terminal_session_under_workspace_write() {
    require_landlock();
    let dir = scratch_dir();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let table = SessionTable::default();
    let script = "for i in 1 2 3; do echo tick $i | tee -a log.txt; sleep 0.3; done; \
                  (touch .git/evil) 2>/dev/null || echo git-denied; \
                  (touch /usr/evil) 2>/dev/null || echo usr-denied";
    let (id, started) = start(
        &table,
        "turn-1",
        &["sh", "-c", script],
        dir.path(),
        workspace_write(),
        TTY,
        250,
    )
    .await;
    assert_eq!(
        started.output.status,
        UnifiedExecStatus::Running { session_id: id }
    );
    let mut seen = text(&started.output);
    assert_eq!(poll_to_exit(&table, id, &mut seen).await, 0);
    assert_eq!(
        seen,
        "tick 1\r\ntick 2\r\ntick 3\r\ngit-denied\r\nusr-denied\r\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("log.txt")).unwrap(),
        "tick 1\ntick 2\ntick 3\n"
    );
    assert!(!dir.path().join(".git/evil").exists());
}

#[tokio::test]
async fn killing_a_turn_kills_its_live_sessions_only() {
    let dir = scratch_dir();
    let table = SessionTable::default();
    let (tx, mut rx) = mpsc::channel(64);
    let id = table.reserve_id();
    let owned = table
        .exec_command(
            id,
            owner("turn-1"),
            spec(
                &["sh", "-c", "sleep 1000 & echo bg=$!; wait"],
                dir.path(),
                SandboxPolicy::DangerFullAccess,
                TTY,
            ),
            SessionLimits::default(),
            Some(250),
            Some(tx),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    output_until(&mut rx, &mut seen, "\r\n").await;
    let grandchild: i32 = seen.trim().trim_start_matches("bg=").parse().unwrap();
    let (other, other_outcome) = start(
        &table,
        "turn-2",
        &["sleep", "1000"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
        NO_STDIN,
        250,
    )
    .await;

    assert_eq!(table.owner(id), Some(owner("turn-1")));
    assert_eq!(table.kill_turn("turn-1"), vec![id]);
    assert_eq!(table.owner(id), None);
    let code = tokio::time::timeout(TEST_TIMEOUT, owned.session.wait())
        .await
        .unwrap();
    assert_eq!(code, 137);
    assert!(
        wait_until(Duration::from_secs(5), || !pid_alive(grandchild)).await,
        "grandchild {grandchild} survived"
    );
    assert!(matches!(
        table.write_stdin(id, b"", None).await,
        Err(WriteStdinError::UnknownProcess(_))
    ));
    assert_eq!(table.ids(), vec![other]);
    assert_eq!(other_outcome.session.exit_code(), None);
    assert_eq!(table.kill_all(), vec![other]);
    assert_eq!(
        tokio::time::timeout(TEST_TIMEOUT, other_outcome.session.wait())
            .await
            .unwrap(),
        137
    );
}

#[tokio::test]
async fn the_session_limit_closes_the_oldest_idle_session() {
    let dir = scratch_dir();
    let table = SessionTable::new(2);
    let sleep = ["sleep", "1000"];
    let policy = SandboxPolicy::DangerFullAccess;
    let (first, first_outcome) = start(
        &table,
        "t",
        &sleep,
        dir.path(),
        policy.clone(),
        NO_STDIN,
        250,
    )
    .await;
    let (second, _) = start(
        &table,
        "t",
        &sleep,
        dir.path(),
        policy.clone(),
        NO_STDIN,
        250,
    )
    .await;
    let (third, _) = start(
        &table,
        "t",
        &sleep,
        dir.path(),
        policy.clone(),
        NO_STDIN,
        250,
    )
    .await;
    assert_eq!(table.ids(), vec![second, third]);
    let code = tokio::time::timeout(TEST_TIMEOUT, first_outcome.session.wait())
        .await
        .unwrap();
    assert_eq!(code, 137, "the evicted session was killed");
    assert!(matches!(
        table.write_stdin(first, b"", None).await,
        Err(WriteStdinError::UnknownProcess(_))
    ));

    // A session that already exited goes before an older running one.
    let table = SessionTable::new(2);
    let read = ["sh", "-c", "read line; exit 3"];
    let (older, _) = start(&table, "t", &read, dir.path(), policy.clone(), TTY, 250).await;
    let (exited, exited_outcome) =
        start(&table, "t", &read, dir.path(), policy.clone(), TTY, 250).await;
    exited_outcome.session.write(b"\n").await.unwrap();
    let code = tokio::time::timeout(TEST_TIMEOUT, exited_outcome.session.wait())
        .await
        .unwrap();
    assert_eq!(code, 3);
    assert_eq!(table.ids(), vec![older, exited]);
    let (newest, _) = start(&table, "t", &read, dir.path(), policy, TTY, 250).await;
    assert_eq!(table.ids(), vec![older, newest]);
}

#[tokio::test]
async fn quick_commands_exit_within_the_call_and_leave_nothing() {
    let dir = scratch_dir();
    let table = SessionTable::default();
    let (id, outcome) = start(
        &table,
        "t",
        &["sh", "-c", "echo hi; exit 4"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
        NO_STDIN,
        10_000,
    )
    .await;
    assert_eq!(
        outcome.output.status,
        UnifiedExecStatus::Exited { exit_code: 4 }
    );
    assert_eq!(text(&outcome.output), "hi\n");
    // It returned at the exit, not at the end of the yield window.
    assert!(outcome.output.wall_time < Duration::from_secs(9));
    assert!(table.ids().is_empty());
    assert!(matches!(
        table.write_stdin(id, b"", None).await,
        Err(WriteStdinError::UnknownProcess(_))
    ));
}

#[tokio::test]
async fn input_to_a_session_without_a_terminal_is_refused() {
    let dir = scratch_dir();
    let table = SessionTable::default();
    let (id, _) = start(
        &table,
        "t",
        &["sleep", "1000"],
        dir.path(),
        SandboxPolicy::DangerFullAccess,
        NO_STDIN,
        250,
    )
    .await;
    let err = table.write_stdin(id, b"x\n", None).await.unwrap_err();
    assert_eq!(
        err.model_text(),
        "write_stdin failed: stdin is closed for this session; rerun exec_command with tty=true to keep stdin open"
    );
    assert_eq!(table.ids(), vec![id]);
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_with_20_sessions_printing() {
    const SESSIONS: usize = 20;
    /// Every session overflows both of its buffers (twice over)...
    const PRINTED_EACH: u64 = 512 * 1024;
    /// ...and all of them together print far more than the RSS bound.
    const PRINTED_TOTAL: u64 = 160 * 1024 * 1024;
    let limits = SessionLimits {
        pending_bytes: 256 * 1024,
        transcript_bytes: 256 * 1024,
    };
    let dir = scratch_dir();
    let table = Arc::new(SessionTable::new(SESSIONS));
    let rss_before = rss_bytes();
    let began = Instant::now();
    let mut starts = tokio::task::JoinSet::new();
    for i in 0..SESSIONS {
        // Half on terminals, half on pipes; nobody reads any of them.
        let io = if i % 2 == 0 { TTY } else { NO_STDIN };
        let spec = spec(
            &["yes", "0123456789abcdef0123456789abcdef"],
            dir.path(),
            SandboxPolicy::DangerFullAccess,
            io,
        );
        let table = table.clone();
        starts.spawn(async move {
            let id = table.reserve_id();
            let outcome = table
                .exec_command(id, owner("t"), spec, limits, Some(250), None)
                .await
                .unwrap();
            assert_eq!(
                outcome.output.status,
                UnifiedExecStatus::Running { session_id: id }
            );
            outcome.session
        });
    }
    let mut sessions = Vec::new();
    while let Some(session) = starts.join_next().await {
        sessions.push(session.unwrap());
    }
    let least = || {
        sessions
            .iter()
            .map(|s| s.total_output_bytes())
            .min()
            .unwrap_or(0)
    };
    let sum = || sessions.iter().map(|s| s.total_output_bytes()).sum::<u64>();
    assert!(
        wait_until(Duration::from_secs(120), || least() >= PRINTED_EACH
            && sum() >= PRINTED_TOTAL)
        .await,
        "sessions printed {} bytes, at least {} each",
        sum(),
        least()
    );
    let total = sum();
    let held: usize = sessions.iter().map(|s| s.buffered_bytes()).sum();
    let rss_growth = rss_bytes().saturating_sub(rss_before);
    eprintln!(
        "{SESSIONS} sessions printed {total} bytes in {:?}; held {held} bytes; RSS grew {rss_growth} bytes",
        began.elapsed()
    );
    assert!(
        held <= SESSIONS * (limits.pending_bytes + limits.transcript_bytes),
        "held {held}"
    );
    // Everything printed (160 MiB or more) would be twice that if kept in
    // both buffers; what is held is at most 10 MiB plus the output queues.
    assert!(
        rss_growth < 40 * 1024 * 1024,
        "RSS grew by {rss_growth} bytes while {total} bytes were printed"
    );
    assert!(sessions.iter().all(|s| s.exit_code().is_none()));
    assert_eq!(table.kill_all().len(), SESSIONS);
    for session in &sessions {
        let code = tokio::time::timeout(TEST_TIMEOUT, session.wait())
            .await
            .unwrap();
        assert_eq!(code, 137);
    }
}
