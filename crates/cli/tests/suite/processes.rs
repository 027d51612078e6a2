//! Processes the real `codex app-server` starts, checked from outside with /proc: none
//! survives the server (killed with SIGKILL, or ending normally), and 20 terminal sessions that
//! print megabytes each keep the server's memory bounded.

use super::harness::{Env, WAIT};
use base64::Engine;
use codex_mock_model::{
    assistant_message, ev_completed, ev_created, ev_function_call_item, function_call, Reply, Usage,
};
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};
use tokio::sync::mpsc;

/// Notifications too many to keep (terminal output): only their bytes are counted.
const DELTA_METHOD: &str = "\"item/commandExecution/outputDelta\"";

/// A `codex app-server` child and a line client for it.
struct AppServer {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Every message except item output deltas.
    rx: mpsc::UnboundedReceiver<Value>,
    /// Bytes of the item output delta lines read so far.
    delta_bytes: Arc<AtomicUsize>,
    next_id: u64,
}

impl AppServer {
    async fn spawn(env: &Env) -> AppServer {
        let mut cmd = env.command();
        for o in env.mock_overrides() {
            cmd.arg("-c").arg(o);
        }
        cmd.arg("app-server").stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawning codex app-server");
        let stdout = child.stdout.take().expect("stdout pipe");
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::unbounded_channel();
        let delta_bytes = Arc::new(AtomicUsize::new(0));
        let counted = delta_bytes.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line[..line.len().min(120)].contains(DELTA_METHOD) {
                    counted.fetch_add(line.len(), Ordering::Relaxed);
                    continue;
                }
                let message = serde_json::from_str(&line).expect("a JSON line");
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        let mut server = AppServer {
            child,
            stdin,
            rx,
            delta_bytes,
            next_id: 0,
        };
        server
            .call(
                "initialize",
                json!({"clientInfo": {"name": "t", "title": "t", "version": "1"},
                       "capabilities": {"experimentalApi": true}}),
            )
            .await;
        server.send(json!({"method": "initialized"})).await;
        server
    }

    fn pid(&self) -> u32 {
        self.child.id().expect("the server runs")
    }

    async fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        let mut line = message.to_string();
        line.push('\n');
        stdin.write_all(line.as_bytes()).await.expect("write");
        stdin.flush().await.expect("flush");
    }

    async fn request(&mut self, method: &str, params: Value) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"id": id, "method": method, "params": params}))
            .await;
        id
    }

    /// The next message matching `pred` (others are dropped).
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) if pred(&m) => return m,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the server closed stdout while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.request(method, params).await;
        let answer = self
            .wait_for(method, |m| m["id"] == id && m.get("method").is_none())
            .await;
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method} failed: {answer}"))
    }

    /// Starts a full-access thread and runs one turn; returns when it completed.
    async fn thread_with_turn(&mut self) -> String {
        let thread = self
            .call(
                "thread/start",
                json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}),
            )
            .await["thread"]["id"]
            .as_str()
            .expect("thread id")
            .to_string();
        self.call(
            "turn/start",
            json!({"threadId": thread, "input": [{"type": "text", "text": "go"}]}),
        )
        .await;
        self.wait_for("turn/completed", |m| m["method"] == "turn/completed")
            .await;
        thread
    }
}

fn pid_alive(pid: i32) -> bool {
    // A zombie (exited, not yet reaped by its parent) counts as dead.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

async fn wait_all_dead(pids: &[i32]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while pids.iter().any(|p| pid_alive(*p)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "survivors: {:?}",
            pids.iter().filter(|p| pid_alive(**p)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Pids printed by a command as `<pid> <pid>`.
fn pids_in(text: &str) -> Vec<i32> {
    text.split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect()
}

/// Bound for the 20 sessions to print everything (60 MB through a debug build on a shared,
/// busy 2-core machine).
const SLOW_WAIT: Duration = Duration::from_secs(180);

/// A shell that starts a background sleep, prints both pids and waits.
const FAMILY: &str = "sleep 1000 & echo $$ $!; wait";

/// Pids of live processes whose command line contains `needle`.
fn sleeping(needle: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
                .filter(|p| {
                    std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| {
                        String::from_utf8_lossy(&c)
                            .replace('\0', " ")
                            .contains(needle)
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `VmRSS` or `VmHWM` of a process, in KiB.
fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_sigkill_leaves_no_process_behind() {
    let env = Env::new().await;
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": FAMILY, "login": false, "tty": true, "yield_time_ms": 2000}),
    ));
    env.mock.enqueue(assistant_message("r2", "started"));
    let mut server = AppServer::spawn(&env).await;
    server.thread_with_turn().await;
    let session_output = env.model_requests()[1]["input"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["call_id"] == "c1" && i["type"] == "function_call_output")
        .unwrap()["output"]
        .as_str()
        .unwrap()
        .to_string();
    let mut pids = pids_in(session_output.split_once("Output:\n").unwrap().1);
    assert_eq!(pids.len(), 2, "{session_output}");

    server
        .request(
            "command/exec",
            json!({"command": ["sh", "-c", FAMILY], "processId": "family",
                   "streamStdoutStderr": true, "disableTimeout": true,
                   "sandboxPolicy": {"type": "dangerFullAccess"}}),
        )
        .await;
    let delta = server
        .wait_for("command/exec/outputDelta", |m| {
            m["method"] == "command/exec/outputDelta"
        })
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(delta["params"]["deltaBase64"].as_str().unwrap())
        .unwrap();
    pids.extend(pids_in(&String::from_utf8_lossy(&bytes)));
    assert_eq!(pids.len(), 4, "{pids:?}");
    assert!(pids.iter().all(|p| pid_alive(*p)), "{pids:?}");

    // SIGKILL: no destructor runs; the guardian process kills the groups.
    server.child.kill().await.expect("SIGKILL");
    wait_all_dead(&pids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_sessions_printing_megabytes_keep_memory_bounded_and_die_with_the_server() {
    const SESSIONS: usize = 20;
    /// Each session prints this much: 1.5 times its two 1 MiB buffers.
    const BYTES_EACH: usize = 3_000_000;
    let env = Env::new().await;
    let sleep = format!("sleep 1000.{}", std::process::id());
    let mut events = vec![ev_created("r1")];
    for n in 0..SESSIONS {
        let cmd = format!(
            "yes 0123456789012345678901234567890123456789012345678 | head -c {BYTES_EACH}; \
             {sleep}"
        );
        events.push(ev_function_call_item(
            &format!("c{n}"),
            "exec_command",
            &json!({"cmd": cmd, "login": false, "tty": true, "yield_time_ms": 250}),
        ));
    }
    events.push(ev_completed("r1", Usage::default()));
    env.mock.enqueue(Reply::Sse(events));
    env.mock.enqueue(assistant_message("r2", "all started"));
    let mut server = AppServer::spawn(&env).await;
    let pid = server.pid();
    let baseline = memory_kib(pid, "VmRSS:");

    server.thread_with_turn().await;
    // Each session is done printing once its sleep runs; the reader task meanwhile drains
    // (and counts) every delta the server sends.
    let deadline = tokio::time::Instant::now() + SLOW_WAIT;
    while sleeping(&sleep).len() < SESSIONS
        || server.delta_bytes.load(Ordering::Relaxed) < SESSIONS * BYTES_EACH
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} sessions done, {} delta bytes read",
            sleeping(&sleep).len(),
            server.delta_bytes.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let peak = memory_kib(pid, "VmHWM:");
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    // Per session the caps allow 2 MiB of buffers plus two bounded chunk queues (about 3 MiB,
    // measured ~70 MiB for 20 with allocator slack); unbounded buffers would add 2 x 60 MB.
    assert!(
        growth_mib < 110,
        "peak RSS grew by {growth_mib} MiB (baseline {baseline} KiB, peak {peak} KiB)"
    );
    eprintln!(
        "20 sessions, {} MB printed: server peak RSS {} MiB (baseline {} MiB)",
        SESSIONS * BYTES_EACH / 1_000_000,
        peak / 1024,
        baseline / 1024
    );
    // All still alive; an orderly exit (input closed) takes them all down.
    let pids = sleeping(&sleep);
    assert_eq!(pids.len(), SESSIONS, "{pids:?}");
    server.stdin.take();
    let status = tokio::time::timeout(WAIT, server.child.wait())
        .await
        .expect("the server exits when its input ends")
        .expect("wait");
    assert!(status.success(), "{status}");
    wait_all_dead(&pids).await;
}
