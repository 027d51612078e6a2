//! Starts a stdio MCP server as a child process, and is the only place that kills one.
//!
//! The child gets a cleared environment plus the official allow-list (`HOME`, `PATH`, ...),
//! the names in `env_vars` and the literal `env` table; it runs in its own process group so
//! that launchers such as `npx` or `uvx` are taken down with the server they started; it dies
//! with us (`PR_SET_PDEATHSIG`) and with its [`ChildGuard`]. Its stderr is drained into a
//! bounded tail that start-up errors quote. Every `unsafe` block of the crate is here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Variables inherited from our environment by every stdio server (the official list).
pub const DEFAULT_ENV_VARS: &[&str] = &[
    "HOME",
    "LOGNAME",
    "PATH",
    "SHELL",
    "USER",
    "__CF_USER_TEXT_ENCODING",
    "LANG",
    "LC_ALL",
    "TERM",
    "TMPDIR",
    "TZ",
];

/// How many bytes of a server's stderr are kept for error messages.
const STDERR_TAIL_BYTES: usize = 4096;

/// What to run.
pub(crate) struct SpawnSpec<'a> {
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub env_vars: &'a [String],
    pub cwd: Option<&'a PathBuf>,
}

/// A running server: its pipes, the guard that kills its process group, its stderr tail.
pub(crate) struct SpawnedServer {
    pub stdout: ChildStdout,
    pub stdin: ChildStdin,
    pub guard: ChildGuard,
    pub stderr: StderrTail,
}

/// Kills the child's whole process group when dropped.
pub(crate) struct ChildGuard {
    child: Child,
    pgid: Option<i32>,
}

impl ChildGuard {
    /// Whether the child has exited (reaps it if so).
    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

/// How long a failed start waits for the server's last stderr words once it is killed.
pub(crate) const STDERR_DRAIN: std::time::Duration = std::time::Duration::from_secs(2);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            kill_process_group(pgid);
        }
        // kill_on_drop covers the direct child should the group kill have failed.
        let _ = self.child.start_kill();
    }
}

/// The last bytes a server wrote to stderr.
#[derive(Clone)]
pub(crate) struct StderrTail {
    bytes: Arc<Mutex<Vec<u8>>>,
    /// Set once stderr reached end of file (the server and its group are gone).
    closed: Arc<tokio::sync::watch::Sender<bool>>,
}

impl StderrTail {
    fn new() -> Self {
        StderrTail {
            bytes: Arc::default(),
            closed: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// The tail as text, trimmed; empty when the server wrote nothing.
    pub fn text(&self) -> String {
        let bytes = self.bytes.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).trim().to_string()
    }

    /// Waits until stderr is closed, so the tail holds everything the server wrote.
    pub async fn closed(&self) {
        let mut rx = self.closed.subscribe();
        let _ = rx.wait_for(|closed| *closed).await;
    }

    fn push(&self, chunk: &[u8]) {
        if let Ok(mut tail) = self.bytes.lock() {
            tail.extend_from_slice(chunk);
            if tail.len() > STDERR_TAIL_BYTES {
                let excess = tail.len() - STDERR_TAIL_BYTES;
                tail.drain(..excess);
            }
        }
    }
}

/// The environment a stdio server starts with.
pub(crate) fn server_env(
    env: &BTreeMap<String, String>,
    env_vars: &[String],
) -> BTreeMap<String, std::ffi::OsString> {
    let mut out = BTreeMap::new();
    for name in DEFAULT_ENV_VARS
        .iter()
        .copied()
        .chain(env_vars.iter().map(String::as_str))
    {
        if let Some(value) = std::env::var_os(name) {
            out.insert(name.to_string(), value);
        }
    }
    for (name, value) in env {
        out.insert(name.clone(), value.into());
    }
    out
}

/// Spawns the server.
///
/// # Errors
/// The OS error of `spawn` (command not found, not executable, bad `cwd`).
pub(crate) fn spawn(spec: &SpawnSpec<'_>, server_name: &str) -> std::io::Result<SpawnedServer> {
    let mut command = Command::new(spec.command);
    command
        .args(spec.args)
        .env_clear()
        .envs(server_env(spec.env, spec.env_vars))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    if let Some(cwd) = spec.cwd {
        command.current_dir(cwd);
    }
    // SAFETY: the closure runs in the forked child before exec and only calls prctl, which is
    // async-signal-safe; it touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn()?;
    let pgid = child.id().and_then(|id| i32::try_from(id).ok());
    let (Some(stdout), Some(stdin), Some(mut stderr_pipe)) =
        (child.stdout.take(), child.stdin.take(), child.stderr.take())
    else {
        return Err(std::io::Error::other("child pipes missing"));
    };
    let stderr = StderrTail::new();
    let tail = stderr.clone();
    let name = server_name.to_string();
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        loop {
            match stderr_pipe.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    tail.closed.send_replace(true);
                    break;
                }
                Ok(n) => {
                    tail.push(&buf[..n]);
                    tracing::debug!(server = %name, stderr = %String::from_utf8_lossy(&buf[..n]).trim_end());
                }
            }
        }
    });
    Ok(SpawnedServer {
        stdout,
        stdin,
        guard: ChildGuard { child, pgid },
        stderr,
    })
}

fn kill_process_group(pgid: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group we created for this child
    // (process_group(0) made the child its leader); no memory is shared.
    let rc = unsafe { libc::kill(-pgid, libc::SIGKILL) };
    if rc != 0 {
        tracing::debug!(pgid, error = %std::io::Error::last_os_error(), "killpg failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_is_the_allow_list_plus_config() {
        let env = BTreeMap::from([("TZ".to_string(), "custom".to_string())]);
        let built = server_env(&env, &["CARGO_PKG_NAME".to_string()]);
        assert_eq!(built["TZ"], "custom");
        assert_eq!(built["CARGO_PKG_NAME"], "codex-mcp");
        assert!(built.contains_key("PATH"));
        assert!(
            !built.contains_key("CARGO_MANIFEST_DIR"),
            "not passed through"
        );
    }
}
