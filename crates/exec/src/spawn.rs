//! Spawning one command: its stdio (pipes or a pseudo-terminal), exact
//! environment, working directory and kernel sandbox, in its own session and
//! process group. [`crate::Process`] drives what this returns.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::policy::SandboxPolicy;
use crate::pty::PtyMaster;
use crate::sandbox;
use crate::sys;
use crate::types::{ExecError, TerminalSize};

/// How the command's stdin, stdout and stderr are connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessIo {
    /// stdout and stderr are separate pipes; stdin is a pipe we can write to
    /// when `stdin` is true, `/dev/null` otherwise.
    Pipes { stdin: bool },
    /// All three are one pseudo-terminal of this size, which is also the
    /// command's controlling terminal: input is echoed, output lines end in
    /// `\r\n`, and stdout and stderr arrive as one stream.
    Pty { size: TerminalSize },
}

/// One command to start. The environment is exactly `env` (nothing inherited).
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// Program and arguments; `argv[0]` is looked up in `PATH` from `env`.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: HashMap<String, String>,
    pub sandbox: SandboxPolicy,
    pub io: ProcessIo,
}

/// Where output comes from.
pub(crate) enum OutputSource {
    Stdout(ChildStdout),
    Stderr(ChildStderr),
    Pty(Arc<PtyMaster>),
}

/// Where input goes.
pub(crate) enum InputSink {
    Pipe(ChildStdin),
    Pty(Arc<PtyMaster>),
    /// Started with stdin on `/dev/null`.
    None,
}

pub(crate) struct Spawned {
    pub(crate) child: Child,
    pub(crate) pid: u32,
    pub(crate) input: InputSink,
    pub(crate) sources: Vec<OutputSource>,
    pub(crate) pty: Option<Arc<PtyMaster>>,
}

/// Start `spec`. Call from async code on a runtime worker thread, never from
/// a `spawn_blocking` thread: `PR_SET_PDEATHSIG` fires when the spawning
/// *thread* exits, and blocking-pool threads exit when idle.
pub(crate) fn spawn(spec: &ProcessSpec) -> Result<Spawned, ExecError> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(ExecError::EmptyCommand);
    };
    let pty = match spec.io {
        ProcessIo::Pty { size } => Some(
            sys::pty::open_pty(size)
                .map_err(|e| ExecError::Terminal(format!("cannot open a pseudo-terminal: {e}")))?,
        ),
        ProcessIo::Pipes { .. } => None,
    };
    let slave_path = match &pty {
        Some(pair) => Some(
            std::fs::read_link(format!("/proc/self/fd/{}", pair.slave.as_raw_fd()))
                .map_err(|e| ExecError::Terminal(format!("cannot name the terminal: {e}")))?,
        ),
        None => None,
    };
    let mut prepared = sandbox::prepare(&spec.sandbox, &spec.cwd, slave_path.as_deref())?;

    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(&spec.env)
        .kill_on_drop(true);
    let mut master = None;
    match pty {
        Some(pair) => {
            let stdio = |fd: &std::os::fd::OwnedFd| -> Result<Stdio, ExecError> {
                Ok(Stdio::from(fd.try_clone()?))
            };
            command
                .stdin(stdio(&pair.slave)?)
                .stdout(stdio(&pair.slave)?)
                .stderr(stdio(&pair.slave)?);
            prepared.setup.controlling_tty = true;
            master = Some(Arc::new(PtyMaster::new(pair.master)?));
            // `pair.slave` drops here; the copies above go with `command`.
        }
        None => {
            let stdin = matches!(spec.io, ProcessIo::Pipes { stdin: true });
            command
                .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
    }
    sys::install_child_setup(&mut command, prepared.setup);
    let spawned = command.spawn();
    // Our copies of the pty slave (held by `command`) must close, or the
    // master never sees hangup; the child has its own copy of the Landlock fd.
    drop(command);
    drop(prepared._ruleset);
    let mut child = spawned.map_err(|source| ExecError::Spawn {
        program: program.clone(),
        source,
    })?;
    let Some(pid) = child.id() else {
        return Err(ExecError::Io(std::io::Error::other(
            "the child was reaped before its pid was read",
        )));
    };
    let (input, sources) = match &master {
        Some(master) => (
            InputSink::Pty(master.clone()),
            vec![OutputSource::Pty(master.clone())],
        ),
        None => {
            let input = match child.stdin.take() {
                Some(stdin) => InputSink::Pipe(stdin),
                None => InputSink::None,
            };
            let mut sources = Vec::with_capacity(2);
            if let Some(out) = child.stdout.take() {
                sources.push(OutputSource::Stdout(out));
            }
            if let Some(err) = child.stderr.take() {
                sources.push(OutputSource::Stderr(err));
            }
            (input, sources)
        }
    };
    tracing::debug!(pid, argv = ?spec.argv, tty = master.is_some(), "spawned command");
    Ok(Spawned {
        child,
        pid,
        input,
        sources,
        pty: master,
    })
}
