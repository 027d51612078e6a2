//! Request, result, streaming and error types of [`crate::run`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

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
