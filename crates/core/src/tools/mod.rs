//! Tools the model can call. Each tool is a [`Tool`]: its name, its spec per model family,
//! whether it may run beside other calls, what it needs, and `call`. A thread's
//! [`ToolRegistry`] holds the tools it offers; the turn takes a [`ToolSet`] snapshot per model
//! request, advertises its specs, and runs the calls of the response through [`run_calls`],
//! which returns each call's output item and the items it completed. The turn records them.
//!
//! # Layout (each module uses only those listed before it)
//! - `call`: [`ToolCall`] (a `function_call` / `custom_tool_call` item), [`ToolOutput`],
//!   [`ToolError`].
//! - `thread_tools`: [`ThreadTools`], state that outlives one call (session approvals, the
//!   turn diff, per-thread resources such as live processes).
//! - `context`: [`ToolCtx`], what a call may use (the client sink, the turn's cancellation,
//!   the settings, the thread's tool state), and [`CallScope`], which collects the items a
//!   call completes.
//! - `tool`: the [`Tool`] trait, [`ToolNeeds`], model [`Family`].
//! - `registry`: [`ToolRegistry`] (per thread, changes while the thread is open) and
//!   [`ToolSet`] (an immutable snapshot; resolves `namespace` + `name` calls and flat
//!   `<namespace>__<name>` names).
//! - `run`: [`run_calls`], the calls of one response, in parallel where allowed.
//! - Built-in tools: `shell` (`exec_command`, `shell_command`, `write_stdin`: arguments and
//!   approval), `shell_approval` (asking the client), `shell_exec` (running them), with `command` (argv, environment, policies),
//!   `command_item` (the `commandExecution` item), `command_deltas` (output deltas),
//!   `command_run` (a command run to its end) and `sessions` (terminal sessions that outlive
//!   their call); `patch` (`apply_patch`, with `diff`), `plan` (`update_plan`), `image`
//!   (`view_image`); `approval` asks the client; `spec` builds function specs.
//! - For the runtime's own commands (`command/exec`, `thread/shellCommand`): [`command_env`],
//!   [`command_policy`], [`shell_argv`], [`UserCommand`] and [`kill_thread_processes`].
//! - Tools from outside: `dynamic` (client-defined tools, run by the client through
//!   `item/tool/call`), `mcp` (the tools of MCP servers) and `mcp_state` (a thread's MCP
//!   servers, and [`before_model_request`], which registers the ready servers' tools).
//!
//! # Adding a tool
//! Implement [`Tool`] and register it: built-ins in [`builtin_tools`]; tools that come and go
//! (MCP servers, client-defined tools) with [`ToolRegistry::register`] /
//! [`ToolRegistry::remove`] on the thread's registry, at any time. The turn loop does not
//! change. State a tool keeps across calls goes in [`ThreadTools::resource`]; it is dropped
//! with the thread (drop it to kill what it owns), and anything tied to the turn should hang
//! off [`ToolCtx::cancel`].

mod approval;
mod call;
mod command;
mod command_deltas;
mod command_item;
mod command_run;
mod context;
mod diff;
pub(crate) mod dynamic;
mod image;
mod mcp;
mod mcp_state;
mod patch;
mod plan;
mod registry;
mod run;
mod sessions;
mod shell;
mod shell_approval;
mod shell_exec;
mod spec;
mod thread_tools;
mod tool;
mod user_command;

pub use call::{ToolCall, ToolError, ToolOutput, ToolPayload};
pub use command::{
    child_env as command_env, command_actions, exec_policy as command_policy, join_argv, shell_argv,
};
pub use context::{CallScope, Completed, ToolCtx};
pub use mcp_state::before_model_request;
pub(crate) use mcp_state::{ElicitationRoute, ThreadMcp};
pub use registry::{ToolRegistry, ToolSet};
pub use run::{run_calls, CallResult};
pub use sessions::kill_thread_processes;
pub use thread_tools::ThreadTools;
pub use tool::{Family, Tool, ToolFuture, ToolNeeds};
pub use user_command::{UserCommand, UserCommandEnd};

use std::sync::Arc;

/// The tools every thread starts with, in the order their specs are advertised.
pub fn builtin_tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(shell::ExecCommand),
        Arc::new(shell::WriteStdin),
        Arc::new(shell::ShellCommand),
        Arc::new(plan::UpdatePlan),
        Arc::new(patch::ApplyPatch),
        Arc::new(image::ViewImage),
    ]
}
