//! No process outlives its session table, its registry, or this process,
//! checked with commands that leave a grandchild running in the background.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use codex_exec::{
    CommandExecEvent, CommandExecRequest, ProcessIo, ProcessRegistry, SandboxPolicy, SessionLimits,
    SessionTable, TerminalSize,
};

use super::{base_env, pid_alive, scratch_dir, spec, wait_until, TEST_TIMEOUT};

/// Prints `<shell pid> <background sleep pid>`, then waits forever.
const FAMILY: &str = "sleep 1000 & echo $$ $!; wait";

fn parse_pids(text: &str) -> Vec<i32> {
    text.split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect()
}

/// Starts [`FAMILY`] as a session and returns the two pids.
async fn session_family(table: &SessionTable, cwd: &Path, io: ProcessIo) -> Vec<i32> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let id = table.reserve_id();
    table
        .exec_command(
            id,
            codex_exec::SessionOwner {
                turn_id: "turn".to_string(),
                item_id: "call".to_string(),
            },
            spec(
                &["sh", "-c", FAMILY],
                cwd,
                SandboxPolicy::DangerFullAccess,
                io,
            ),
            SessionLimits::default(),
            Some(250),
            Some(tx),
        )
        .await
        .unwrap();
    let mut seen = String::new();
    super::output_until(&mut rx, &mut seen, "\n").await;
    parse_pids(&seen)
}

/// Starts [`FAMILY`] through the registry and returns the two pids.
async fn registry_family(
    registry: &ProcessRegistry,
    cwd: &Path,
) -> (Vec<i32>, tokio::sync::mpsc::Receiver<CommandExecEvent>) {
    let mut events = registry
        .start(CommandExecRequest {
            command: vec!["sh".into(), "-c".into(), FAMILY.into()],
            cwd: cwd.to_path_buf(),
            env: base_env(),
            sandbox: SandboxPolicy::DangerFullAccess,
            timeout_ms: None,
            disable_timeout: true,
            tty: false,
            size: None,
            stream_stdin: false,
            stream_stdout_stderr: true,
            process_id: Some("family".to_string()),
            output_bytes_cap: None,
            disable_output_cap: false,
        })
        .unwrap();
    let event = tokio::time::timeout(TEST_TIMEOUT, events.recv())
        .await
        .unwrap()
        .unwrap();
    let CommandExecEvent::Output(delta) = event else {
        panic!("expected output first, got {event:?}");
    };
    (parse_pids(&String::from_utf8_lossy(&delta.bytes)), events)
}

async fn assert_all_die(pids: &[i32]) {
    assert!(
        wait_until(Duration::from_secs(10), || pids
            .iter()
            .all(|p| !pid_alive(*p)))
        .await,
        "survivors: {:?}",
        pids.iter().filter(|p| pid_alive(**p)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn dropping_the_session_table_kills_every_descendant() {
    let dir = scratch_dir();
    let table = SessionTable::default();
    let mut pids = session_family(&table, dir.path(), ProcessIo::Pipes { stdin: false }).await;
    pids.extend(
        session_family(
            &table,
            dir.path(),
            ProcessIo::Pty {
                size: TerminalSize::default(),
            },
        )
        .await,
    );
    assert_eq!(pids.len(), 4);
    assert!(pids.iter().all(|p| pid_alive(*p)));
    drop(table);
    assert_all_die(&pids).await;
}

#[tokio::test]
async fn dropping_the_registry_kills_every_descendant() {
    let dir = scratch_dir();
    let registry = ProcessRegistry::new();
    let (pids, _events) = registry_family(&registry, dir.path()).await;
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|p| pid_alive(*p)));
    drop(registry);
    assert_all_die(&pids).await;
}

const HELPER_ENV: &str = "CODEX_EXEC_TEST_FAKE_SERVER";
const THIS_TEST: &str = "suite::survival::a_server_killed_with_sigkill_leaves_no_process_behind";

/// Run twice: as the test, it starts this test binary again as a fake server
/// (selected by an environment variable) that starts sessions and a
/// `command/exec` whose shells leave grandchildren, reports their pids, and
/// waits. The test SIGKILLs it, so no destructor runs, and checks that every
/// one of those processes dies anyway.
#[test]
fn a_server_killed_with_sigkill_leaves_no_process_behind() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Some(dir) = std::env::var_os(HELPER_ENV) {
        runtime.block_on(fake_server(Path::new(&dir)));
        return;
    }
    let dir = scratch_dir();
    let mut server = Command::new(std::env::current_exe().unwrap())
        .args([THIS_TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(HELPER_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test <name> ... " on the same line first.
            if let Some((_, pids)) = line.split_once("PIDS ") {
                let _ = tx.send(parse_pids(pids));
            }
        }
    });
    let pids = rx.recv_timeout(TEST_TIMEOUT).unwrap_or_else(|_| {
        let _ = server.kill();
        panic!("the fake server did not report its processes");
    });
    assert_eq!(pids.len(), 6, "{pids:?}");
    assert!(pids.iter().all(|p| pid_alive(*p)), "{pids:?}");
    server.kill().unwrap();
    server.wait().unwrap();
    runtime.block_on(assert_all_die(&pids));
}

async fn fake_server(dir: &Path) {
    let table = SessionTable::default();
    let mut pids = session_family(&table, dir, ProcessIo::Pipes { stdin: false }).await;
    pids.extend(
        session_family(
            &table,
            dir,
            ProcessIo::Pty {
                size: TerminalSize::default(),
            },
        )
        .await,
    );
    let registry = ProcessRegistry::new();
    let (more, _events) = registry_family(&registry, dir).await;
    pids.extend(more);
    let line: Vec<String> = pids.iter().map(|p| p.to_string()).collect();
    println!("PIDS {}", line.join(" "));
    // Wait to be killed; if nobody does, end (and clean up) on our own.
    tokio::time::sleep(TEST_TIMEOUT).await;
}
