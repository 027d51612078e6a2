//! The process registry behind the client API's `command/exec` family:
//! start a command (validated as the official runtime validates it), stream
//! its output with per-stream byte caps, write to or close its stdin, resize
//! its terminal, terminate it (exit 137) or time it out (exit 124).
//!
//! [`ProcessRegistry::start`] returns a bounded channel that carries, in
//! order, every output delta (when streaming) and then the final result, so
//! a server forwarding it in order sends all `command/exec/outputDelta`
//! notifications before the response. Processes started with a client
//! `processId` can be addressed by the other methods until they exit.
//! Dropping the registry (or [`ProcessRegistry::kill_all`]) kills every
//! process group it holds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::policy::SandboxPolicy;
use crate::process::Process;
use crate::run::TIMEOUT_EXIT_CODE;
use crate::spawn::{ProcessIo, ProcessSpec};
use crate::types::{ControlError, ExecError, OutputChunk, OutputStream, TerminalSize};

/// Timeout when the request sets neither `timeoutMs` nor `disableTimeout`.
pub const DEFAULT_COMMAND_EXEC_TIMEOUT: Duration = Duration::from_secs(10);
/// Per-stream output cap when the request sets neither `outputBytesCap` nor
/// `disableOutputCap` (1 MiB, as official).
pub const DEFAULT_OUTPUT_BYTES_CAP: usize = 1024 * 1024;
/// Events in flight to the server.
const EVENT_QUEUE: usize = 64;
/// Chunks already waiting are merged into one delta up to this size.
const COALESCE_BYTES: usize = 64 * 1024;
/// Chunks in flight between the process and the driver.
const OUTPUT_QUEUE: usize = 64;

/// A `command/exec` request, fields as on the wire.
#[derive(Debug, Clone)]
pub struct CommandExecRequest {
    pub command: Vec<String>,
    pub cwd: PathBuf,
    /// The complete environment of the command.
    pub env: HashMap<String, String>,
    pub sandbox: SandboxPolicy,
    /// `timeoutMs`; default [`DEFAULT_COMMAND_EXEC_TIMEOUT`].
    pub timeout_ms: Option<i64>,
    pub disable_timeout: bool,
    /// Run on a pseudo-terminal (implies `stream_stdin` and
    /// `stream_stdout_stderr`; all output arrives as stdout).
    pub tty: bool,
    /// Initial terminal size (tty only); default 24x80.
    pub size: Option<TerminalSize>,
    pub stream_stdin: bool,
    pub stream_stdout_stderr: bool,
    /// Client handle for write/resize/terminate; required for tty or streaming.
    pub process_id: Option<String>,
    /// `outputBytesCap` per stream; default [`DEFAULT_OUTPUT_BYTES_CAP`].
    pub output_bytes_cap: Option<usize>,
    pub disable_output_cap: bool,
}

/// One `command/exec/outputDelta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandExecDelta {
    pub process_id: String,
    pub stream: OutputStream,
    pub bytes: Vec<u8>,
    /// This stream hit its cap with this delta; nothing more comes from it.
    pub cap_reached: bool,
}

/// The `command/exec` response. With streaming, `stdout` and `stderr` are
/// empty (everything went out as deltas).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandExecResult {
    /// 124 on timeout; 137 after terminate (SIGKILL); else the exit status.
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What the channel returned by [`ProcessRegistry::start`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandExecEvent {
    Output(CommandExecDelta),
    /// Always last.
    Finished(CommandExecResult),
}

/// Why a `command/exec*` request was refused. Messages match the official
/// runtime's.
#[derive(Debug, thiserror::Error)]
pub enum CommandExecError {
    #[error("command must not be empty")]
    EmptyCommand,
    #[error("command/exec tty or streaming requires a client-supplied processId")]
    ProcessIdRequired,
    #[error("command/exec size requires tty: true")]
    SizeWithoutTty,
    #[error("command/exec size rows and cols must be greater than 0")]
    InvalidSize,
    #[error("command/exec cannot set both timeoutMs and disableTimeout")]
    TimeoutConflict,
    #[error("command/exec timeoutMs must not be negative, got {0}")]
    NegativeTimeout(i64),
    #[error("command/exec cannot set both outputBytesCap and disableOutputCap")]
    OutputCapConflict,
    #[error("duplicate active command/exec process id: {0:?}")]
    DuplicateProcessId(String),
    #[error("no active command/exec for process id {0:?}")]
    UnknownProcessId(String),
    #[error("stdin streaming is not enabled for this command/exec")]
    StdinNotStreamed,
    #[error("stdin is already closed")]
    StdinClosed,
    #[error("command/exec {0:?} was not started with tty: true")]
    NotATerminal(String),
    #[error("failed to spawn command: {0}")]
    Spawn(#[source] ExecError),
    #[error("command/exec {process_id:?}: {source}")]
    Control {
        process_id: String,
        #[source]
        source: ControlError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Client(String),
    /// Commands without a client id are tracked too, so that kill_all and
    /// drop reach them.
    Generated(u64),
}

struct Entry {
    process: Arc<Process>,
    stream_stdin: bool,
}

type Entries = Arc<Mutex<HashMap<Key, Entry>>>;

/// Live `command/exec` processes of one server.
#[derive(Default)]
pub struct ProcessRegistry {
    entries: Entries,
    next_generated: AtomicU64,
}

impl ProcessRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Validate and start `request`. Events (deltas, then the result) arrive
    /// on the returned channel; if the receiver is dropped, the process is
    /// killed.
    ///
    /// # Errors
    /// A validation error (see [`CommandExecError`]), a duplicate
    /// `processId`, or [`CommandExecError::Spawn`]; nothing runs then.
    pub fn start(
        &self,
        request: CommandExecRequest,
    ) -> Result<mpsc::Receiver<CommandExecEvent>, CommandExecError> {
        let timeout = validate(&request)?;
        let stream_stdin = request.tty || request.stream_stdin;
        let stream_output = request.tty || request.stream_stdout_stderr;
        let cap = if request.disable_output_cap {
            None
        } else {
            Some(request.output_bytes_cap.unwrap_or(DEFAULT_OUTPUT_BYTES_CAP))
        };
        let key = match &request.process_id {
            Some(id) => Key::Client(id.clone()),
            None => Key::Generated(self.next_generated.fetch_add(1, Ordering::Relaxed)),
        };
        let io = if request.tty {
            ProcessIo::Pty {
                size: request.size.unwrap_or_default(),
            }
        } else {
            ProcessIo::Pipes {
                stdin: stream_stdin,
            }
        };
        let spec = ProcessSpec {
            argv: request.command,
            cwd: request.cwd,
            env: request.env,
            sandbox: request.sandbox,
            io,
        };
        let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let process = {
            // Hold the lock across the spawn so that two starts with the
            // same id cannot both succeed.
            let mut entries = lock(&self.entries);
            if let (Key::Client(id), true) = (&key, entries.contains_key(&key)) {
                return Err(CommandExecError::DuplicateProcessId(id.clone()));
            }
            let process = Arc::new(Process::spawn(spec, tx).map_err(CommandExecError::Spawn)?);
            entries.insert(
                key.clone(),
                Entry {
                    process: process.clone(),
                    stream_stdin,
                },
            );
            process
        };
        tokio::spawn(drive(
            Driver {
                process,
                key,
                entries: self.entries.clone(),
                events: events_tx,
                stream_output,
                cap,
                timeout,
            },
            rx,
        ));
        Ok(events_rx)
    }

    /// `command/exec/write`: write `bytes` (if any) to stdin, then close it
    /// when `close_stdin`.
    ///
    /// # Errors
    /// Unknown id, stdin not streamed, stdin already closed, or the write
    /// failing (timed out, process gone).
    pub async fn write(
        &self,
        process_id: &str,
        bytes: &[u8],
        close_stdin: bool,
    ) -> Result<(), CommandExecError> {
        let (process, stream_stdin) = self.find(process_id)?;
        if !stream_stdin {
            return Err(CommandExecError::StdinNotStreamed);
        }
        if !bytes.is_empty() {
            process
                .write_stdin(bytes)
                .await
                .map_err(|e| control_error(process_id, e))?;
        }
        if close_stdin {
            process
                .close_stdin()
                .await
                .map_err(|e| control_error(process_id, e))?;
        }
        Ok(())
    }

    /// `command/exec/resize`: returns once the new size is in effect.
    ///
    /// # Errors
    /// Unknown id, not a tty, a zero dimension, or the ioctl failing.
    pub fn resize(&self, process_id: &str, size: TerminalSize) -> Result<(), CommandExecError> {
        let (process, _) = self.find(process_id)?;
        process
            .resize(size)
            .map_err(|e| control_error(process_id, e))
    }

    /// `command/exec/terminate`: SIGKILL the process group; the command then
    /// finishes with exit code 137.
    ///
    /// # Errors
    /// [`CommandExecError::UnknownProcessId`].
    pub fn terminate(&self, process_id: &str) -> Result<(), CommandExecError> {
        let (process, _) = self.find(process_id)?;
        process.kill();
        Ok(())
    }

    /// Kill every process group in the registry (server shutdown).
    pub fn kill_all(&self) {
        for entry in lock(&self.entries).values() {
            entry.process.kill();
        }
    }

    /// Client ids of the commands still running, sorted.
    pub fn active_process_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = lock(&self.entries)
            .keys()
            .filter_map(|k| match k {
                Key::Client(id) => Some(id.clone()),
                Key::Generated(_) => None,
            })
            .collect();
        ids.sort();
        ids
    }

    fn find(&self, process_id: &str) -> Result<(Arc<Process>, bool), CommandExecError> {
        lock(&self.entries)
            .get(&Key::Client(process_id.to_string()))
            .map(|e| (e.process.clone(), e.stream_stdin))
            .ok_or_else(|| CommandExecError::UnknownProcessId(process_id.to_string()))
    }
}

impl Drop for ProcessRegistry {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn lock(entries: &Entries) -> MutexGuard<'_, HashMap<Key, Entry>> {
    // Every update is a single insert or remove: a poisoned map is intact.
    entries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Check a request; returns its timeout (`None`: disabled).
fn validate(request: &CommandExecRequest) -> Result<Option<Duration>, CommandExecError> {
    if request.command.is_empty() {
        return Err(CommandExecError::EmptyCommand);
    }
    if request.process_id.is_none()
        && (request.tty || request.stream_stdin || request.stream_stdout_stderr)
    {
        return Err(CommandExecError::ProcessIdRequired);
    }
    if let Some(size) = request.size {
        if !request.tty {
            return Err(CommandExecError::SizeWithoutTty);
        }
        if !size.is_valid() {
            return Err(CommandExecError::InvalidSize);
        }
    }
    if request.output_bytes_cap.is_some() && request.disable_output_cap {
        return Err(CommandExecError::OutputCapConflict);
    }
    match (request.timeout_ms, request.disable_timeout) {
        (Some(_), true) => Err(CommandExecError::TimeoutConflict),
        (Some(ms), false) => match u64::try_from(ms) {
            Ok(ms) => Ok(Some(Duration::from_millis(ms))),
            Err(_) => Err(CommandExecError::NegativeTimeout(ms)),
        },
        (None, true) => Ok(None),
        (None, false) => Ok(Some(DEFAULT_COMMAND_EXEC_TIMEOUT)),
    }
}

fn control_error(process_id: &str, error: ControlError) -> CommandExecError {
    match error {
        ControlError::StdinNotStreamed => CommandExecError::StdinNotStreamed,
        ControlError::StdinClosed => CommandExecError::StdinClosed,
        ControlError::NotATerminal => CommandExecError::NotATerminal(process_id.to_string()),
        ControlError::InvalidSize => CommandExecError::InvalidSize,
        source @ (ControlError::WriteTimedOut | ControlError::Io(_)) => CommandExecError::Control {
            process_id: process_id.to_string(),
            source,
        },
    }
}

struct Driver {
    process: Arc<Process>,
    key: Key,
    entries: Entries,
    events: mpsc::Sender<CommandExecEvent>,
    stream_output: bool,
    cap: Option<usize>,
    timeout: Option<Duration>,
}

/// Output accounting of one stream.
#[derive(Default)]
struct StreamState {
    observed: usize,
    cap_reached: bool,
    buffer: Vec<u8>,
}

/// Copy output to events (or buffers), enforce the timeout, then report.
async fn drive(driver: Driver, mut rx: mpsc::Receiver<OutputChunk>) {
    let mut stdout = StreamState::default();
    let mut stderr = StreamState::default();
    let mut timed_out = false;
    let limit = driver.timeout;
    let timeout = async move {
        match limit {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(mut current) = chunk else { break };
                // Merge what is already waiting, so a fast printer yields
                // few large deltas instead of many small ones.
                while current.bytes.len() < COALESCE_BYTES {
                    match rx.try_recv() {
                        Ok(next) if next.stream == current.stream => current.bytes.extend(next.bytes),
                        Ok(next) => {
                            driver.deliver(&mut stdout, &mut stderr, current).await;
                            current = next;
                        }
                        Err(_) => break,
                    }
                }
                driver.deliver(&mut stdout, &mut stderr, current).await;
            }
            _ = &mut timeout, if !timed_out => {
                timed_out = true;
                driver.process.kill();
            }
        }
    }
    let status = driver.process.wait().await;
    lock(&driver.entries).remove(&driver.key);
    let result = CommandExecResult {
        exit_code: if timed_out { TIMEOUT_EXIT_CODE } else { status },
        stdout: String::from_utf8_lossy(&stdout.buffer).into_owned(),
        stderr: String::from_utf8_lossy(&stderr.buffer).into_owned(),
    };
    // A closed receiver means nobody waits for the answer any more.
    let _ = driver.events.send(CommandExecEvent::Finished(result)).await;
}

impl Driver {
    /// Apply the cap to `chunk`, then stream it or buffer it.
    async fn deliver(
        &self,
        stdout: &mut StreamState,
        stderr: &mut StreamState,
        chunk: OutputChunk,
    ) {
        let state = match chunk.stream {
            OutputStream::Stdout => stdout,
            OutputStream::Stderr => stderr,
        };
        if state.cap_reached {
            // Keep reading (the command must not block) but drop it.
            return;
        }
        let take = match self.cap {
            Some(cap) => cap.saturating_sub(state.observed).min(chunk.bytes.len()),
            None => chunk.bytes.len(),
        };
        state.observed += take;
        state.cap_reached = self.cap == Some(state.observed);
        let mut bytes = chunk.bytes;
        bytes.truncate(take);
        if !self.stream_output {
            state.buffer.extend_from_slice(&bytes);
            return;
        }
        let Key::Client(process_id) = &self.key else {
            return;
        };
        let delta = CommandExecDelta {
            process_id: process_id.clone(),
            stream: chunk.stream,
            bytes,
            cap_reached: state.cap_reached,
        };
        if self
            .events
            .send(CommandExecEvent::Output(delta))
            .await
            .is_err()
        {
            // The client is gone: nobody can see or stop this command.
            self.process.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CommandExecRequest {
        CommandExecRequest {
            command: vec!["true".to_string()],
            cwd: PathBuf::from("/"),
            env: HashMap::new(),
            sandbox: SandboxPolicy::DangerFullAccess,
            timeout_ms: None,
            disable_timeout: false,
            tty: false,
            size: None,
            stream_stdin: false,
            stream_stdout_stderr: false,
            process_id: None,
            output_bytes_cap: None,
            disable_output_cap: false,
        }
    }

    #[test]
    fn timeout_defaults_to_ten_seconds_unless_disabled() {
        assert_eq!(validate(&request()).unwrap(), Some(Duration::from_secs(10)));
        let disabled = CommandExecRequest {
            disable_timeout: true,
            ..request()
        };
        assert_eq!(validate(&disabled).unwrap(), None);
        let explicit = CommandExecRequest {
            timeout_ms: Some(1500),
            ..request()
        };
        assert_eq!(
            validate(&explicit).unwrap(),
            Some(Duration::from_millis(1500))
        );
    }
}
