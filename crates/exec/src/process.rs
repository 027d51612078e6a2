//! A running command with live I/O: the layer under [`crate::run`],
//! [`crate::Session`] and [`crate::ProcessRegistry`].
//!
//! [`Process::spawn`] starts the command (see [`crate::ProcessSpec`]) and a
//! driver task that copies its output, as [`OutputChunk`]s in read order, into
//! the caller's bounded channel (a slow reader slows the command down; it
//! never grows a queue), reaps it, and publishes the exit code only after all
//! output has been sent and the channel closed. When the main process exits,
//! descendants still holding the output open get [`DRAIN_GRACE`], then the
//! whole process group is killed: nothing a command started outlives it.
//!
//! The group is also killed by [`Process::kill`], when the handle is dropped,
//! and (through [`crate::guardian`]) when this process dies abruptly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Child;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::guardian;
use crate::pty::PtyMaster;
use crate::spawn::{self, InputSink, OutputSource, ProcessSpec};
use crate::sys;
use crate::types::{ControlError, ExecError, OutputChunk, OutputStream, TerminalSize};

/// After the main process exits, how long descendants may keep the output
/// open (and keep printing) before the group is killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// After that kill, how long to wait for the last buffered output.
const FINAL_DRAIN: Duration = Duration::from_millis(500);
const READ_CHUNK: usize = 8192;
/// Bound on one write to stdin: a process that does not read its input must
/// not hang the caller.
const STDIN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// The terminal's default end-of-file character (Ctrl-D): "closing" the
/// stdin of a terminal means typing it, as the master cannot be half-closed.
const TERMINAL_EOF: u8 = 0x04;

/// A spawned command. Dropping it kills the whole process group.
pub struct Process {
    pid: u32,
    group: Arc<ProcessGroup>,
    input: tokio::sync::Mutex<Input>,
    pty: Option<Arc<PtyMaster>>,
    exit: watch::Receiver<Option<i32>>,
}

enum Input {
    Open(InputSink),
    Closed,
}

impl Process {
    /// Start `spec`, sending its output to `output` until it ends.
    ///
    /// Needs a tokio runtime; call it from async code on a worker thread
    /// (see [`crate::ProcessSpec`]).
    ///
    /// # Errors
    /// [`ExecError::EmptyCommand`], sandbox errors, terminal setup errors and
    /// [`ExecError::Spawn`] when the program cannot be executed.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn spawn(
        spec: ProcessSpec,
        output: mpsc::Sender<OutputChunk>,
    ) -> Result<Process, ExecError> {
        let spawned = spawn::spawn(&spec)?;
        let group = Arc::new(ProcessGroup::new(spawned.pid));
        let (exit_tx, exit) = watch::channel(None);
        tokio::spawn(drive(
            spawned.child,
            spawned.sources,
            output,
            group.clone(),
            exit_tx,
        ));
        Ok(Process {
            pid: spawned.pid,
            group,
            input: tokio::sync::Mutex::new(Input::Open(spawned.input)),
            pty: spawned.pty,
            exit,
        })
    }

    /// The process id, which is also its process group id.
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// Whether the process runs on a pseudo-terminal.
    pub fn is_tty(&self) -> bool {
        self.pty.is_some()
    }

    /// Write `bytes` to stdin (as typed input on a terminal).
    ///
    /// # Errors
    /// [`ControlError::StdinNotStreamed`] when started with stdin on
    /// `/dev/null`, [`ControlError::StdinClosed`] after [`Self::close_stdin`],
    /// [`ControlError::WriteTimedOut`] when the process does not read, and
    /// [`ControlError::Io`] when the process has gone (broken pipe, EIO).
    pub async fn write_stdin(&self, bytes: &[u8]) -> Result<(), ControlError> {
        let mut input = self.input.lock().await;
        let write = async {
            match &mut *input {
                Input::Open(InputSink::Pipe(pipe)) => {
                    pipe.write_all(bytes).await?;
                    pipe.flush().await?;
                    Ok(())
                }
                Input::Open(InputSink::Pty(master)) => Ok(master.write_all(bytes).await?),
                Input::Open(InputSink::None) => Err(ControlError::StdinNotStreamed),
                Input::Closed => Err(ControlError::StdinClosed),
            }
        };
        match tokio::time::timeout(STDIN_WRITE_TIMEOUT, write).await {
            Ok(result) => result,
            Err(_) => Err(ControlError::WriteTimedOut),
        }
    }

    /// Signal end of input: close the pipe, or type the terminal's EOF
    /// character (which ends input for a program reading lines). Closing
    /// twice is fine.
    ///
    /// # Errors
    /// [`ControlError::StdinNotStreamed`] when started without stdin; I/O
    /// errors writing the EOF character to a terminal.
    pub async fn close_stdin(&self) -> Result<(), ControlError> {
        let mut input = self.input.lock().await;
        match std::mem::replace(&mut *input, Input::Closed) {
            Input::Open(InputSink::Pipe(pipe)) => {
                drop(pipe);
                Ok(())
            }
            Input::Open(InputSink::Pty(master)) => {
                match tokio::time::timeout(STDIN_WRITE_TIMEOUT, master.write_all(&[TERMINAL_EOF]))
                    .await
                {
                    Ok(result) => Ok(result?),
                    Err(_) => Err(ControlError::WriteTimedOut),
                }
            }
            Input::Open(InputSink::None) => {
                *input = Input::Open(InputSink::None);
                Err(ControlError::StdinNotStreamed)
            }
            Input::Closed => Ok(()),
        }
    }

    /// Resize the terminal. Returns once the new size is in effect.
    ///
    /// # Errors
    /// [`ControlError::NotATerminal`], [`ControlError::InvalidSize`] for a
    /// zero dimension, [`ControlError::Io`] if the ioctl fails.
    pub fn resize(&self, size: TerminalSize) -> Result<(), ControlError> {
        let Some(master) = &self.pty else {
            return Err(ControlError::NotATerminal);
        };
        if !size.is_valid() {
            return Err(ControlError::InvalidSize);
        }
        Ok(master.resize(size)?)
    }

    /// SIGKILL the whole process group. The exit code then reads `128 + 9`.
    pub fn kill(&self) {
        self.group.kill();
    }

    /// The exit code once the process has ended and all output was sent:
    /// its status, or `128 + signal` when killed by a signal.
    pub fn exit_code(&self) -> Option<i32> {
        *self.exit.borrow()
    }

    /// Wait for [`Self::exit_code`].
    ///
    /// # Cancellation
    /// Cancel-safe; dropping the future leaves the process running.
    pub async fn wait(&self) -> i32 {
        wait_exit(self.exit.clone()).await
    }

    pub(crate) fn exit_watch(&self) -> watch::Receiver<Option<i32>> {
        self.exit.clone()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.group.kill();
    }
}

/// Wait until `exit` holds a code. The driver always publishes one before it
/// ends; if it was torn down without (runtime shutdown), report -1.
pub(crate) async fn wait_exit(mut exit: watch::Receiver<Option<i32>>) -> i32 {
    match exit.wait_for(Option::is_some).await {
        Ok(code) => code.unwrap_or(-1),
        Err(_) => -1,
    }
}

/// The command's process group: killed on request, and for good once the
/// command has finished. After that no signal is sent to the number again,
/// since the kernel may hand it to an unrelated group.
struct ProcessGroup {
    pgid: u32,
    finished: Mutex<bool>,
}

impl ProcessGroup {
    fn new(pgid: u32) -> Self {
        guardian::watch(pgid);
        ProcessGroup {
            pgid,
            finished: Mutex::new(false),
        }
    }

    fn kill(&self) {
        let finished = self.finished.lock().map(|f| *f).unwrap_or(false);
        if !finished {
            kill_group(self.pgid);
        }
    }

    fn finish(&self) {
        let Ok(mut finished) = self.finished.lock() else {
            return;
        };
        if *finished {
            return;
        }
        kill_group(self.pgid);
        *finished = true;
        guardian::unwatch(self.pgid);
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.finish();
    }
}

fn kill_group(pgid: u32) {
    if let Err(err) = sys::kill_process_group(pgid) {
        tracing::warn!(pgid, %err, "failed to kill process group");
    }
}

async fn drive(
    mut child: Child,
    sources: Vec<OutputSource>,
    output: mpsc::Sender<OutputChunk>,
    group: Arc<ProcessGroup>,
    exit_tx: watch::Sender<Option<i32>>,
) {
    let mut pumps = JoinSet::new();
    for source in sources {
        pumps.spawn(pump(source, output.clone()));
    }
    // The channel closes when the last pump ends.
    drop(output);
    let code = match child.wait().await {
        Ok(status) => exit_code_of(status),
        Err(err) => {
            tracing::warn!(pid = group.pgid, %err, "waiting for the command failed");
            -1
        }
    };
    let drained = tokio::time::timeout(DRAIN_GRACE, join_all(&mut pumps))
        .await
        .is_ok();
    if !drained {
        tracing::debug!(
            pid = group.pgid,
            "output still open after exit; killing the process group"
        );
    }
    group.finish();
    if !drained
        && tokio::time::timeout(FINAL_DRAIN, join_all(&mut pumps))
            .await
            .is_err()
    {
        // Held open by something outside the group (it called setsid).
        pumps.abort_all();
        join_all(&mut pumps).await;
    }
    exit_tx.send_replace(Some(code));
}

async fn join_all(pumps: &mut JoinSet<()>) {
    while pumps.join_next().await.is_some() {}
}

/// Copy one output source into `output` until EOF. If the receiver is gone,
/// keep reading and discarding so the command never blocks on a full pipe.
async fn pump(mut source: OutputSource, output: mpsc::Sender<OutputChunk>) {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut listening = true;
    loop {
        let (stream, read) = match &mut source {
            OutputSource::Stdout(pipe) => (OutputStream::Stdout, pipe.read(&mut buf).await),
            OutputSource::Stderr(pipe) => (OutputStream::Stderr, pipe.read(&mut buf).await),
            OutputSource::Pty(master) => (OutputStream::Stdout, master.read(&mut buf).await),
        };
        let n = match read {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) => {
                tracing::debug!(%err, "reading command output failed");
                break;
            }
        };
        if !listening {
            continue;
        }
        let chunk = OutputChunk {
            stream,
            bytes: buf.get(..n).unwrap_or_default().to_vec(),
        };
        if output.send(chunk).await.is_err() {
            listening = false;
        }
    }
}

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => -1,
    }
}
