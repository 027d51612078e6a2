//! The [`Tool`] trait and what describes a tool to the registry.

use super::call::{ToolCall, ToolError, ToolOutput};
use super::context::CallScope;
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;

/// What a call returns: its output for the model, or why it failed.
pub type ToolFuture<'a> = Pin<Box<dyn Future<Output = Result<ToolOutput, ToolError>> + Send + 'a>>;

/// Which tool set a model gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `gpt-5*` and codex models: unified exec and the freeform apply_patch.
    Codex,
    /// `gpt-4*`, `o3*`, `o4*`: `shell_command` and the function-style apply_patch.
    Legacy,
    /// Anything else (e.g. local or mock models): unified exec, no apply_patch tool (patches
    /// still work through the shell heredoc).
    Unknown,
}

impl Family {
    pub fn of(model: &str) -> Family {
        let m = model.to_ascii_lowercase();
        if m.starts_with("gpt-5") || m.contains("codex") {
            Family::Codex
        } else if m.starts_with("gpt-4") || m.starts_with("o3") || m.starts_with("o4") {
            Family::Legacy
        } else {
            Family::Unknown
        }
    }
}

/// What a tool needs from the runtime to run a call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ToolNeeds {
    /// It runs processes under the thread's sandbox policy.
    pub sandbox: bool,
    /// A call may wait on the client for an approval (a server request).
    pub approval: bool,
}

/// One tool, or one namespace of tools, the model can call.
pub trait Tool: Send + Sync + 'static {
    /// The name calls are resolved by: a function name (`exec_command`), or for a tool that
    /// answers a whole namespace, the namespace (`mcp__<server>`).
    fn name(&self) -> &str;

    /// The spec advertised to models of `family`; `None` when they are not offered this tool
    /// (it still answers calls made by name).
    fn spec(&self, family: Family) -> Option<Value>;

    /// Whether calls may run at the same time as other parallel calls of the same response.
    fn parallel(&self) -> bool {
        false
    }

    fn needs(&self) -> ToolNeeds {
        ToolNeeds::default()
    }

    /// Runs one call. Items the call completes go through `scope` (announced at once,
    /// recorded by the turn afterwards, in call order).
    ///
    /// # Cancellation
    /// The call should end promptly once `scope.ctx.cancel` fires (the turn was interrupted).
    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a>;
}
