//! Request, result, streaming and error types of [`crate::run`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::policy::SandboxPolicy;

/// One command to run. The environment is exactly `env` (nothing inherited).
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// Program and arguments; `argv[0]` is looked up in `PATH` from `env`.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub env: HashMap<String, String>,
    /// Kill the process group and report exit code 124 after this long.
    pub timeout: Option<Duration>,
    /// Bytes kept in memory per stream (and for the aggregate); beyond this
    /// the head and tail are kept and the middle is dropped.
    pub output_cap_bytes: usize,
    pub sandbox: SandboxPolicy,
}

/// Which pipe a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Raw bytes read from the child, streamed while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    pub stream: OutputStream,
    pub bytes: Vec<u8>,
}

/// The finished command. Text is decoded lossily from UTF-8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; `128 + signal` when killed by a signal; 124 on timeout.
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// stdout and stderr interleaved in the order they were read.
    pub aggregated_output: String,
    pub duration: Duration,
    pub timed_out: bool,
}

/// Why a command could not be run to completion.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("empty command")]
    EmptyCommand,
    #[error("sandbox unavailable: {0}")]
    SandboxUnavailable(String),
    #[error("failed to prepare the sandbox: {0}")]
    SandboxSetup(String),
    #[error("terminal setup failed: {0}")]
    Terminal(String),
    #[error("failed to spawn {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("i/o error while running the command: {0}")]
    Io(#[from] std::io::Error),
    /// The cancellation token fired; the process group was killed and reaped.
    /// Carries what had been captured so far.
    #[error("command cancelled")]
    Cancelled { partial: Box<ExecOutput> },
}

/// Rows and columns of a pseudo-terminal window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSize {
    pub rows: u16,
    pub cols: u16,
}

impl Default for TerminalSize {
    /// 24 x 80, the classic terminal (and the official runtime's default).
    fn default() -> Self {
        TerminalSize { rows: 24, cols: 80 }
    }
}

impl TerminalSize {
    /// Both dimensions non-zero (the kernel accepts zero, programs do not).
    pub fn is_valid(self) -> bool {
        self.rows > 0 && self.cols > 0
    }
}

/// Why input, resizing or closing could not be applied to a running process.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("stdin streaming is not enabled for this process")]
    StdinNotStreamed,
    #[error("stdin is already closed")]
    StdinClosed,
    #[error("the process was not started on a terminal")]
    NotATerminal,
    #[error("terminal rows and cols must be greater than 0")]
    InvalidSize,
    /// The process did not take the input within the write timeout (it is
    /// not reading stdin and the pipe or terminal buffer is full).
    #[error("timed out writing to stdin: the process is not reading its input")]
    WriteTimedOut,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
