//! `codex-exec`: run one command as a child process, optionally inside a
//! kernel-enforced Linux sandbox, and format its output for the model.
//!
//! * [`run`] spawns the command in its own process group with stdin on
//!   `/dev/null`, captures stdout/stderr (capped in memory, head and tail
//!   kept), streams chunks while it runs, and enforces timeout/cancellation by
//!   killing the whole process group.
//! * [`SandboxPolicy`] selects the sandbox: Landlock for the filesystem, a
//!   seccomp filter for the network, and a private mount namespace that keeps
//!   `.git` (and `.codex`/`.agents`) read-only inside writable roots.
//! * [`format`] turns an [`ExecOutput`] into the text the model sees.

mod buffer;
pub mod format;
mod policy;
mod run;
mod sandbox;
mod sys;
mod types;

pub use format::{
    approx_token_count, format_exec_output_for_model, format_exec_output_freeform, truncate_middle,
    TruncationPolicy,
};
pub use policy::{writable_roots, SandboxPolicy, WritableRoot};
pub use run::run;
pub use sandbox::{sandbox_support, SandboxSupport};
pub use types::{ExecError, ExecOutput, ExecRequest, OutputChunk, OutputStream};
