//! Integration test modules and shared helpers.

mod command_exec;
mod lifecycle;
mod output;
mod pty;
mod sandbox;
mod session;
mod survival;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use codex_exec::{
    run, sandbox_support, ExecError, ExecOutput, ExecRequest, OutputChunk, ProcessIo, ProcessSpec,
    SandboxPolicy,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Upper bound for any single command in these tests.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

pub fn base_env() -> HashMap<String, String> {
    let mut env = HashMap::new();
    env.insert(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    );
    env.insert(
        "HOME".to_string(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".to_string()),
    );
    env.insert("LANG".to_string(), "C.UTF-8".to_string());
    env
}

pub fn request(argv: &[&str], cwd: &Path, sandbox: SandboxPolicy) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: cwd.to_path_buf(),
        env: base_env(),
        timeout: Some(TEST_TIMEOUT),
        output_cap_bytes: 1024 * 1024,
        sandbox,
    }
}

pub fn spec(argv: &[&str], cwd: &Path, sandbox: SandboxPolicy, io: ProcessIo) -> ProcessSpec {
    ProcessSpec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: cwd.to_path_buf(),
        env: base_env(),
        sandbox,
        io,
    }
}

/// Run `sh -c script` and return the result.
pub async fn sh(script: &str, cwd: &Path, sandbox: SandboxPolicy) -> Result<ExecOutput, ExecError> {
    run(
        request(&["sh", "-c", script], cwd, sandbox),
        None,
        CancellationToken::new(),
    )
    .await
}

/// A scratch directory outside /tmp (which workspace-write grants), under
/// cargo's per-target temp dir.
pub fn scratch_dir() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).unwrap();
    tempfile::tempdir_in(base).unwrap()
}

pub fn workspace_write() -> SandboxPolicy {
    SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![],
        network_access: false,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: false,
    }
}

pub fn read_only() -> SandboxPolicy {
    SandboxPolicy::ReadOnly {
        network_access: false,
    }
}

/// Sandbox tests need Landlock; where it is missing they fail here, loudly,
/// instead of passing without testing anything.
pub fn require_landlock() {
    let support = sandbox_support();
    assert!(
        support.available,
        "Landlock is required for the sandbox tests: {support:?}"
    );
}

/// Appends output chunks to `seen` until it contains `needle` (bounded by
/// [`TEST_TIMEOUT`]).
pub async fn output_until(rx: &mut mpsc::Receiver<OutputChunk>, seen: &mut String, needle: &str) {
    output_until_count(rx, seen, needle, 1).await;
}

/// Appends output chunks to `seen` until `needle` occurs `count` times.
pub async fn output_until_count(
    rx: &mut mpsc::Receiver<OutputChunk>,
    seen: &mut String,
    needle: &str,
    count: usize,
) {
    let deadline = tokio::time::Instant::now() + TEST_TIMEOUT;
    while seen.matches(needle).count() < count {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(chunk)) => seen.push_str(&String::from_utf8_lossy(&chunk.bytes)),
            Ok(None) => panic!("output ended before {needle:?}; got {seen:?}"),
            Err(_) => panic!("timed out waiting for {needle:?}; got {seen:?}"),
        }
    }
}

/// Whether `pid` is a live process (zombies count as dead).
pub fn pid_alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Fields of `/proc/<pid>/stat` after the command name: state, ppid, pgrp,
/// session, tty_nr, ...
pub fn proc_stat_fields(pid: i32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = stat.rsplit_once(')').unwrap().1;
    rest.split_whitespace().map(str::to_string).collect()
}

/// Processes (not zombies) whose process group is `pgid`.
pub fn live_group_members(pgid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command name: state ppid pgrp ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z" && fields[0] != "X"
        {
            out.push(pid);
        }
    }
    out
}

pub async fn wait_until(deadline: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
