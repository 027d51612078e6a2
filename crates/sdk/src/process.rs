//! The app-server child process: spawning it with piped stdio, keeping the tail of its stderr
//! for error messages, learning its exit status, and stopping it.
//!
//! One task owns the [`Child`]: it waits for the exit and publishes the status, or kills the
//! child when asked (or when the [`Process`] is dropped, so a client dropped without `close`
//! never leaks a server). Another task drains stderr into a bounded ring of lines, so a chatty
//! server can never block on a full stderr pipe.

use crate::error::{Error, TransportClosed};
use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
use tokio::sync::{oneshot, watch};

/// Stderr lines kept for error messages (the Python SDK keeps 400 too).
const STDERR_LINES: usize = 400;
/// Longest stderr line kept; the rest of a longer line is dropped.
const STDERR_LINE_BYTES: usize = 4096;

/// What to run.
pub(crate) struct Launch {
    pub argv: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(OsString, OsString)>,
}

/// A running (or exited) server process.
pub(crate) struct Process {
    exit: watch::Receiver<Option<ExitStatus>>,
    /// Sending (or dropping) it kills the child.
    kill: Mutex<Option<oneshot::Sender<()>>>,
    stderr: StderrTail,
    stderr_done: watch::Receiver<bool>,
}

/// The child's pipes, for the connection.
pub(crate) struct Pipes {
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
}

impl Process {
    /// Starts the child. Must run inside a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Spawn`] when the program cannot be started.
    pub fn spawn(launch: &Launch) -> Result<(Process, Pipes), Error> {
        let Some((program, args)) = launch.argv.split_first() else {
            return Err(Error::Spawn {
                program: PathBuf::new(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty argv"),
            });
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The waiter task below owns the child; if that task is dropped with its runtime,
            // the child must not outlive it.
            .kill_on_drop(true);
        if let Some(cwd) = &launch.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            program: Path::new(program).to_path_buf(),
            source,
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            // Unreachable with all three pipes requested; handled so the function stays total.
            return Err(Error::Spawn {
                program: Path::new(program).to_path_buf(),
                source: std::io::Error::other("the child has no stdio pipes"),
            });
        };
        let (exit_tx, exit) = watch::channel(None);
        let (kill_tx, kill_rx) = oneshot::channel();
        tokio::spawn(own_child(child, kill_rx, exit_tx));
        let tail = StderrTail::default();
        let (done_tx, stderr_done) = watch::channel(false);
        tokio::spawn(drain_stderr(stderr, tail.clone(), done_tx));
        let process = Process {
            exit,
            kill: Mutex::new(Some(kill_tx)),
            stderr: tail,
            stderr_done,
        };
        Ok((process, Pipes { stdin, stdout }))
    }

    /// Kills the child now (idempotent).
    pub fn kill(&self) {
        if let Some(kill) = self.kill.lock().ok().and_then(|mut k| k.take()) {
            let _ = kill.send(());
        }
    }

    /// Waits at most `within` for the child to exit; its status if it did.
    pub async fn wait_exit(&self, within: Duration) -> Option<ExitStatus> {
        let mut exit = self.exit.clone();
        let waited = tokio::time::timeout(within, exit.wait_for(Option::is_some)).await;
        match waited {
            Ok(Ok(status)) => *status,
            _ => *self.exit.borrow(),
        }
    }

    /// A [`TransportClosed`] with the stderr tail and exit status, waiting briefly for both so
    /// the tail holds the server's last words.
    pub async fn closed(&self, message: &str) -> TransportClosed {
        let mut done = self.stderr_done.clone();
        let _ = tokio::time::timeout(Duration::from_secs(1), done.wait_for(|d| *d)).await;
        let exit_status = self.wait_exit(Duration::from_millis(500)).await;
        TransportClosed {
            message: message.to_string(),
            stderr_tail: self.stderr.text(),
            exit_status,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn own_child(
    mut child: Child,
    kill: oneshot::Receiver<()>,
    exit: watch::Sender<Option<ExitStatus>>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        // A kill request, or the `Process` was dropped (the sender with it).
        _ = kill => {
            if let Err(e) = child.start_kill() {
                tracing::debug!("killing the app-server failed: {e}");
            }
            child.wait().await
        }
    };
    match status {
        Ok(status) => {
            let _ = exit.send(Some(status));
        }
        Err(e) => tracing::warn!("waiting for the app-server failed: {e}"),
    }
}

async fn drain_stderr(mut stderr: ChildStderr, tail: StderrTail, done: watch::Sender<bool>) {
    let mut buf = [0u8; 8192];
    let mut line = Vec::new();
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                for &byte in &buf[..n] {
                    if byte == b'\n' {
                        tail.push(&line);
                        line.clear();
                    } else if line.len() < STDERR_LINE_BYTES {
                        line.push(byte);
                    }
                }
            }
        }
    }
    if !line.is_empty() {
        tail.push(&line);
    }
    let _ = done.send(true);
}

/// The last [`STDERR_LINES`] lines the server wrote to stderr.
#[derive(Clone, Default)]
struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    fn push(&self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches('\r').to_string();
        if let Ok(mut lines) = self.0.lock() {
            if lines.len() == STDERR_LINES {
                lines.pop_front();
            }
            lines.push_back(text);
        }
    }

    fn text(&self) -> String {
        self.0
            .lock()
            .map(|lines| lines.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Launch {
        Launch {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            cwd: None,
            env: vec![],
        }
    }

    #[tokio::test]
    async fn a_dead_child_reports_its_stderr_tail_and_exit_status() {
        let (process, _pipes) =
            Process::spawn(&sh("i=0; while [ $i -lt 450 ]; do echo line$i >&2; i=$((i+1)); done; printf 'last' >&2; exit 3")).unwrap();
        let closed = process.closed("gone").await;
        assert_eq!(closed.exit_status.and_then(|s| s.code()), Some(3));
        let lines: Vec<&str> = closed.stderr_tail.lines().collect();
        assert_eq!(lines.len(), STDERR_LINES);
        assert_eq!(lines.last(), Some(&"last"));
        assert_eq!(lines.first(), Some(&"line51"));
    }

    #[tokio::test]
    async fn kill_and_drop_stop_the_child() {
        let (process, _pipes) = Process::spawn(&sh("exec sleep 600")).unwrap();
        assert_eq!(process.wait_exit(Duration::from_millis(50)).await, None);
        process.kill();
        let status = process.wait_exit(Duration::from_secs(10)).await;
        assert!(status.is_some_and(|s| !s.success()), "{status:?}");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let err = Process::spawn(&Launch {
            argv: vec!["/nonexistent/codex".into()],
            cwd: None,
            env: vec![],
        })
        .err()
        .unwrap();
        assert!(matches!(err, Error::Spawn { .. }), "{err}");
    }
}
