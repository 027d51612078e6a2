//! `codex-exec`: run commands as child processes, optionally inside a
//! kernel-enforced Linux sandbox, on pipes or a pseudo-terminal; keep
//! interactive sessions for the model's tools and a process registry for the
//! client API; format output for the model.
//!
//! # Layout
//! * [`Process`] (`process`, `spawn`, `pty`): one command in its own session
//!   and process group under a [`SandboxPolicy`], with stdio on pipes or on a
//!   pseudo-terminal that is its controlling tty ([`ProcessIo`]). Output is
//!   streamed through a bounded channel; stdin writes, terminal resize, kill
//!   of the whole group. Nothing it started outlives it.
//! * [`run`]: a command run to completion (stdin on `/dev/null`), captured
//!   with head-and-tail caps, with timeout (exit 124) and cancellation.
//! * [`Session`] and [`SessionTable`]: interactive sessions for the model's
//!   `exec_command` / `write_stdin` tools: decimal ids, yield windows, only
//!   new output per call, a per-thread limit, kill by turn or all at once.
//! * [`ProcessRegistry`]: the `command/exec` family for clients: validation,
//!   streaming deltas with per-stream caps, write, close stdin, resize,
//!   terminate (137), timeout (124).
//! * [`SandboxPolicy`] (`policy`, `sandbox`): Landlock for the filesystem, a
//!   seccomp filter for the network, and a private mount namespace that keeps
//!   `.git` (and `.codex`/`.agents`) read-only inside writable roots.
//! * `guardian`: a helper process that kills our process groups if this
//!   process dies without running destructors.
//! * [`format`]: the text the model sees.
//!
//! All `unsafe` code is in `sys`; the rest of the crate denies it.

#![deny(unsafe_code)]

mod buffer;
mod command_exec;
pub mod format;
mod guardian;
mod policy;
mod process;
mod pty;
mod run;
mod sandbox;
mod session;
mod session_table;
mod spawn;
#[allow(unsafe_code)]
mod sys;
mod types;

pub use command_exec::{
    CommandExecDelta, CommandExecError, CommandExecEvent, CommandExecRequest, CommandExecResult,
    ProcessRegistry, DEFAULT_COMMAND_EXEC_TIMEOUT, DEFAULT_OUTPUT_BYTES_CAP,
};
pub use format::{
    approx_token_count, format_exec_output_for_model, format_exec_output_freeform,
    format_unified_exec_output, new_chunk_id, truncate_middle, TruncationPolicy, UnifiedExecStatus,
};
pub use policy::{writable_roots, SandboxPolicy, WritableRoot};
pub use process::Process;
pub use run::run;
pub use sandbox::{sandbox_support, SandboxSupport};
pub use session::{incomplete_utf8_suffix, Session, SessionLimits, SessionRead, Transcript};
pub use session_table::{
    ExecCommandOutcome, SessionOwner, SessionTable, UnifiedExecOutput, WriteStdinError,
    DEFAULT_MAX_SESSIONS,
};
pub use spawn::{ProcessIo, ProcessSpec};
pub use types::{
    ControlError, ExecError, ExecOutput, ExecRequest, OutputChunk, OutputStream, TerminalSize,
};
