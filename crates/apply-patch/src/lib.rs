//! `codex-apply-patch`: parse, verify and apply the Codex patch format.
//!
//! The flow is `parse_patch` → `apply_patch`. Applying first computes every
//! resulting file in memory and checks every path against the [`WritePolicy`],
//! so a patch that fails verification leaves the filesystem untouched.
//! [`extract_heredoc_patch`] lets a turn engine recognise shell commands that
//! are really `apply_patch <<'EOF'` invocations, and [`tool`] holds the tool
//! definitions advertised to the model.

mod apply;
mod diff;
mod invocation;
mod parser;
mod policy;
mod seek;
pub mod tool;

pub use apply::{
    apply_patch, compute_changes, ApplyError, ApplyOutcome, FileChange, FileChangeKind,
};
pub use diff::{hunks_only_diff, unified_diff};
pub use invocation::{extract_heredoc_patch, extract_heredoc_patch_from_script};
pub use parser::{parse_patch, Hunk, ParseError, Patch, UpdateChunk};
pub use policy::WritePolicy;
pub use seek::seek_sequence;
pub use tool::{apply_patch_freeform_tool, apply_patch_function_tool, APPLY_PATCH_LARK_GRAMMAR};
