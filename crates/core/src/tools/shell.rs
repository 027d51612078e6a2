//! `exec_command`, `shell_command` and `write_stdin`: the tools, their arguments, approval and
//! sandbox selection. Running the command is `shell_exec`'s job. A script that is only an
//! `apply_patch` heredoc is handed to the patch tool instead.

use super::approval::{self, CommandFacts, Mode, Requirement};
use super::call::{ToolCall, ToolError, ToolOutput};
use super::command;
use super::command_item::CommandItem;
use super::context::CallScope;
use super::shell_approval::ask;
use super::shell_exec::{self, ExecArgs, Kind, Plan};
use super::spec;
use super::tool::{Family, Tool, ToolFuture, ToolNeeds};
use crate::clock::now_ms;
use codex_protocol::v2::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Deserialize)]
struct WriteStdinArgs {
    session_id: i32,
    #[serde(default)]
    chars: String,
    yield_time_ms: Option<u64>,
    max_output_tokens: Option<usize>,
}

pub fn resolve(base: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

async fn run(scope: &mut CallScope, call: &ToolCall, kind: Kind) -> Result<String, ToolError> {
    let args: ExecArgs = call.parse_args()?;
    let ctx = scope.ctx.clone();
    let cwd = match &args.workdir {
        Some(w) if !w.is_empty() => resolve(&ctx.settings.cwd, w),
        _ => ctx.settings.cwd.clone(),
    };
    if let Some((patch, cd)) = codex_apply_patch::extract_heredoc_patch_from_script(&args.cmd) {
        let dir = cd.map(|d| resolve(&cwd, &d)).unwrap_or(cwd);
        let start = Instant::now();
        let inner = super::patch::apply(scope, &call.call_id, &patch, &dir).await;
        return Ok(format!(
            "Wall time: {:.4} seconds\nOutput:\n{inner}",
            start.elapsed().as_secs_f64()
        ));
    }
    let argv = command::shell_argv(args.shell.as_deref(), args.login.unwrap_or(true), &args.cmd);
    let mut template = CommandItem {
        id: call.call_id.clone(),
        command: command::join_argv(&argv),
        cwd: cwd.clone(),
        actions: command::command_actions(&args.cmd),
        source: match kind {
            Kind::ExecCommand => CommandExecutionSource::UnifiedExecStartup,
            Kind::ShellCommand => CommandExecutionSource::Agent,
        },
        started_ms: now_ms(),
    };
    let escalated = args.sandbox_permissions.as_deref() == Some("require_escalated");
    let mode = Mode::of(&ctx.settings.approval_policy);
    let approved_for_session = ctx
        .tools
        .approvals
        .lock()
        .is_ok_and(|a| a.commands.contains(&template.command));
    let requirement = approval::exec_requirement(
        mode,
        &ctx.settings.sandbox,
        CommandFacts {
            script: &args.cmd,
            escalated,
            justification: args.justification.clone(),
            approved_for_session,
        },
    );
    let (bypass_sandbox, approved) = match requirement {
        Requirement::Forbidden(text) => return Ok(text),
        Requirement::Skip { bypass_sandbox } => (bypass_sandbox, false),
        Requirement::NeedsApproval { reason } => {
            template.source = CommandExecutionSource::Agent;
            let amendment = command::amendment_words(&args.cmd);
            if let Err(text) = ask(scope, &template, reason, amendment, false).await {
                return Ok(text);
            }
            (escalated, true)
        }
    };
    let sandbox = if bypass_sandbox {
        codex_exec::SandboxPolicy::DangerFullAccess
    } else {
        command::exec_policy(&ctx.settings.sandbox)
    };
    let plan = Plan {
        argv,
        cwd,
        kind,
        args: &args,
        item_started: approved,
        approved,
        mode,
    };
    Ok(shell_exec::execute(scope, &template, plan, sandbox).await)
}

/// `write_stdin`: writes to a session (or polls it, with empty `chars`).
async fn write_stdin(scope: &mut CallScope, call: &ToolCall) -> Result<String, ToolError> {
    let args: WriteStdinArgs = call.parse_args()?;
    Ok(shell_exec::write_stdin(
        scope,
        args.session_id,
        &args.chars,
        args.yield_time_ms,
        args.max_output_tokens,
    )
    .await)
}

/// `exec_command` (unified exec): runs a script, returns when it exits or after the yield
/// time, keeping a still-running process as a session for `write_stdin`.
pub struct ExecCommand;

impl Tool for ExecCommand {
    fn name(&self) -> &str {
        "exec_command"
    }

    fn spec(&self, family: Family) -> Option<serde_json::Value> {
        (family != Family::Legacy).then(spec::exec_command)
    }

    fn parallel(&self) -> bool {
        true
    }

    fn needs(&self) -> ToolNeeds {
        ToolNeeds {
            sandbox: true,
            approval: true,
        }
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move {
            run(scope, call, Kind::ExecCommand)
                .await
                .map(ToolOutput::Text)
        })
    }
}

/// `shell_command` (the older tool set): runs a script to its end or its timeout.
pub struct ShellCommand;

impl Tool for ShellCommand {
    fn name(&self) -> &str {
        "shell_command"
    }

    fn spec(&self, family: Family) -> Option<serde_json::Value> {
        (family == Family::Legacy).then(spec::shell_command)
    }

    fn parallel(&self) -> bool {
        true
    }

    fn needs(&self) -> ToolNeeds {
        ToolNeeds {
            sandbox: true,
            approval: true,
        }
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move {
            run(scope, call, Kind::ShellCommand)
                .await
                .map(ToolOutput::Text)
        })
    }
}

/// `write_stdin`: polls an exec session.
pub struct WriteStdin;

impl Tool for WriteStdin {
    fn name(&self) -> &str {
        "write_stdin"
    }

    fn spec(&self, family: Family) -> Option<serde_json::Value> {
        (family != Family::Legacy).then(spec::write_stdin)
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move { write_stdin(scope, call).await.map(ToolOutput::Text) })
    }
}
