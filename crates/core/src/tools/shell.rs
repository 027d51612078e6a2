//! `exec_command`, `shell_command` and `write_stdin`: approval, sandbox selection, running the
//! command through `codex_exec`, the `commandExecution` item, and the model-facing text.
//! A script that is only an `apply_patch` heredoc is handed to the patch tool instead.

use super::approval::{self, CommandFacts, Decision, Mode, Requirement};
use super::call::{ToolCall, ToolError, ToolOutput};
use super::command;
use super::context::CallScope;
use super::sessions::{ExecSession, ExecSessions, Finished, Process};
use super::spec;
use super::tool::{Family, Tool, ToolFuture, ToolNeeds};
use crate::clock::now_ms;
use codex_exec::{SandboxSupport, TruncationPolicy};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Bytes of output kept in memory per command (head and tail).
const OUTPUT_CAP_BYTES: usize = 1024 * 1024;
const DEFAULT_YIELD_MS: u64 = 10_000;
const DEFAULT_SHELL_TIMEOUT_MS: u64 = 10_000;
/// Empty `write_stdin` polls wait at least this long for the process to finish.
const MIN_POLL_MS: u64 = 5_000;
const MAX_POLL_MS: u64 = 300_000;
const REJECTED: &str = "exec command rejected by user";
const RETRY_REASON: &str = "command failed; retry without sandbox?";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ExecCommand,
    ShellCommand,
}

#[derive(Deserialize)]
struct ExecArgs {
    #[serde(alias = "command")]
    cmd: String,
    workdir: Option<String>,
    shell: Option<String>,
    login: Option<bool>,
    yield_time_ms: Option<u64>,
    max_output_tokens: Option<usize>,
    timeout_ms: Option<u64>,
    sandbox_permissions: Option<String>,
    justification: Option<String>,
}

#[derive(Deserialize)]
struct WriteStdinArgs {
    session_id: i32,
    #[serde(default)]
    chars: String,
    yield_time_ms: Option<u64>,
    max_output_tokens: Option<usize>,
}

fn sandbox_support() -> &'static SandboxSupport {
    static SUPPORT: OnceLock<SandboxSupport> = OnceLock::new();
    SUPPORT.get_or_init(codex_exec::sandbox_support)
}

pub fn resolve(base: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// The fields of the command's item that do not change while it runs.
struct Template {
    id: String,
    command: String,
    cwd: PathBuf,
    actions: Vec<CommandAction>,
    source: CommandExecutionSource,
    started_ms: i64,
}

impl Template {
    fn item(
        &self,
        process_id: Option<i32>,
        status: CommandExecutionStatus,
        finished: Option<&Finished>,
    ) -> ThreadItem {
        ThreadItem::CommandExecution {
            id: self.id.clone(),
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            process_id: process_id.map(|p| p.to_string()),
            source: self.source,
            status,
            command_actions: self.actions.clone(),
            aggregated_output: finished.map(|f| match &f.error {
                Some(e) => e.clone(),
                None => f.aggregated.clone(),
            }),
            exit_code: finished.filter(|f| f.error.is_none()).map(|f| f.exit_code),
            duration_ms: finished.map(|f| f.duration.as_millis() as i64),
        }
    }
}

fn final_status(f: &Finished) -> CommandExecutionStatus {
    if f.error.is_none() && f.exit_code == 0 && !f.timed_out {
        CommandExecutionStatus::Completed
    } else {
        CommandExecutionStatus::Failed
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
    let mut template = Template {
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
    };
    Ok(execute(scope, &template, plan, sandbox, mode, approved).await)
}

struct Plan<'a> {
    argv: Vec<String>,
    cwd: PathBuf,
    kind: Kind,
    args: &'a ExecArgs,
    item_started: bool,
}

/// Asks the client about `template`'s command. `Err` carries the text for the model.
async fn ask(
    scope: &mut CallScope,
    template: &Template,
    reason: Option<String>,
    amendment: Option<Vec<String>>,
    item_started: bool,
) -> Result<(), String> {
    let ctx = scope.ctx.clone();
    ctx.set_waiting(true, true).await;
    if !item_started {
        ctx.item_started(
            &template.item(None, CommandExecutionStatus::InProgress, None),
            template.started_ms,
        )
        .await;
    }
    let decision = approval::ask::<m::CommandExecutionRequestApproval>(
        &ctx,
        &CommandExecutionRequestApprovalParams {
            thread_id: ctx.thread_id.clone(),
            turn_id: ctx.turn_id.clone(),
            item_id: template.id.clone(),
            started_at_ms: now_ms(),
            reason,
            command: template.command.clone(),
            cwd: template.cwd.clone(),
            command_actions: template.actions.clone(),
            proposed_execpolicy_amendment: amendment,
            available_decisions: Some(
                [
                    ApprovalDecision::Accept,
                    ApprovalDecision::AcceptForSession,
                    ApprovalDecision::Decline,
                    ApprovalDecision::Cancel,
                ]
                .into_iter()
                .map(CommandExecutionApprovalDecision::Simple)
                .collect(),
            ),
        },
    )
    .await;
    match decision {
        Decision::Accept | Decision::AcceptForSession => {
            if decision == Decision::AcceptForSession {
                if let Ok(mut approvals) = ctx.tools.approvals.lock() {
                    approvals.commands.insert(template.command.clone());
                }
            }
            ctx.set_waiting(false, true).await;
            Ok(())
        }
        Decision::Decline | Decision::Cancel => {
            scope
                .item_completed(
                    template.item(None, CommandExecutionStatus::Declined, None),
                    template.started_ms,
                )
                .await;
            ctx.set_waiting(false, true).await;
            if decision == Decision::Cancel {
                ctx.cancel.cancel();
            }
            Err(REJECTED.to_string())
        }
        Decision::Interrupted => {
            ctx.set_waiting(false, false).await;
            Err("aborted by user".to_string())
        }
    }
}

fn exec_request(
    plan: &Plan<'_>,
    sandbox: codex_exec::SandboxPolicy,
    timeout: Option<Duration>,
) -> codex_exec::ExecRequest {
    let network_disabled = !sandbox.has_full_network_access();
    codex_exec::ExecRequest {
        argv: plan.argv.clone(),
        cwd: plan.cwd.clone(),
        env: command::child_env(network_disabled),
        timeout,
        output_cap_bytes: OUTPUT_CAP_BYTES,
        sandbox,
    }
}

fn sandbox_refusal(sandbox: &codex_exec::SandboxPolicy) -> Option<String> {
    if matches!(sandbox, codex_exec::SandboxPolicy::DangerFullAccess) {
        return None;
    }
    let support = sandbox_support();
    if support.available {
        return None;
    }
    Some(format!(
        "sandbox unavailable: {}. The command was not run: the sandbox policy requires a sandbox that this host cannot enforce, and commands are never run unsandboxed without permission.",
        support.reason.as_deref().unwrap_or("unknown reason")
    ))
}

async fn execute(
    scope: &mut CallScope,
    template: &Template,
    mut plan: Plan<'_>,
    mut sandbox: codex_exec::SandboxPolicy,
    mode: Mode,
    mut approved: bool,
) -> String {
    let ctx = scope.ctx.clone();
    let start = Instant::now();
    loop {
        if let Some(text) = sandbox_refusal(&sandbox) {
            if !plan.item_started {
                ctx.item_started(
                    &template.item(None, CommandExecutionStatus::InProgress, None),
                    template.started_ms,
                )
                .await;
            }
            let failed = Finished {
                exit_code: -1,
                aggregated: String::new(),
                duration: Duration::ZERO,
                timed_out: false,
                error: Some(text.clone()),
                cancelled: false,
            };
            scope
                .item_completed(
                    template.item(None, CommandExecutionStatus::Failed, Some(&failed)),
                    template.started_ms,
                )
                .await;
            return text;
        }
        let pid = ctx.tools.next_process_id();
        if !plan.item_started {
            ctx.item_started(
                &template.item(Some(pid), CommandExecutionStatus::InProgress, None),
                template.started_ms,
            )
            .await;
            plan.item_started = true;
        }
        let (timeout, limit) = match plan.kind {
            Kind::ExecCommand => (
                None,
                Duration::from_millis(
                    plan.args
                        .yield_time_ms
                        .unwrap_or(DEFAULT_YIELD_MS)
                        .clamp(250, 30_000),
                ),
            ),
            Kind::ShellCommand => {
                let t =
                    Duration::from_millis(plan.args.timeout_ms.unwrap_or(DEFAULT_SHELL_TIMEOUT_MS));
                // The exec crate enforces the timeout; the extra minute only bounds our wait.
                (Some(t), t + Duration::from_secs(60))
            }
        };
        let request = exec_request(&plan, sandbox.clone(), timeout);
        let process = Process::spawn(&ctx, pid, &template.id, request, ctx.cancel.child_token());
        let Some(finished) = process.wait(limit, &ctx.cancel).await else {
            if ctx.cancel.is_cancelled() {
                return aborted(start);
            }
            if plan.kind == Kind::ShellCommand {
                process.cancel.cancel();
                return aborted(start);
            }
            // Still running: keep it for `write_stdin`.
            let output = process.take_unread();
            let session = Arc::new(ExecSession {
                process,
                turn_id: ctx.turn_id.clone(),
                item_id: template.id.clone(),
                command: template.command.clone(),
                cwd: template.cwd.clone(),
                actions: template.actions.clone(),
                started_ms: template.started_ms,
                source: template.source,
            });
            ctx.tools.resource::<ExecSessions>().register(session);
            return unified_text(
                start.elapsed(),
                None,
                Some(pid),
                &output,
                plan.args.max_output_tokens,
            );
        };
        if finished.cancelled {
            return aborted(start);
        }
        let sandboxed = !matches!(sandbox, codex_exec::SandboxPolicy::DangerFullAccess);
        if sandboxed
            && finished.error.is_none()
            && mode.retries_unsandboxed()
            && command::looks_sandbox_denied(finished.exit_code, &finished.aggregated)
        {
            if !approved {
                if let Err(text) =
                    ask(scope, template, Some(RETRY_REASON.to_string()), None, true).await
                {
                    return text;
                }
                approved = true;
            }
            sandbox = codex_exec::SandboxPolicy::DangerFullAccess;
            continue;
        }
        scope
            .item_completed(
                template.item(Some(pid), final_status(&finished), Some(&finished)),
                template.started_ms,
            )
            .await;
        if let Some(err) = &finished.error {
            return format!("execution error: {err}");
        }
        return match plan.kind {
            Kind::ExecCommand => unified_text(
                finished.duration,
                Some(finished.exit_code),
                None,
                &finished.aggregated,
                plan.args.max_output_tokens,
            ),
            Kind::ShellCommand => codex_exec::format_exec_output_freeform(
                &codex_exec::ExecOutput {
                    exit_code: finished.exit_code,
                    stdout: String::new(),
                    stderr: String::new(),
                    aggregated_output: finished.aggregated.clone(),
                    duration: finished.duration,
                    timed_out: finished.timed_out,
                },
                TruncationPolicy::Bytes(10_000),
            ),
        };
    }
}

fn aborted(start: Instant) -> String {
    format!(
        "Wall time: {:.1} seconds\naborted by user",
        start.elapsed().as_secs_f64()
    )
}

fn chunk_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..6].to_string()
}

/// The unified-exec result text (`exec_command`, `write_stdin`).
fn unified_text(
    wall: Duration,
    exit_code: Option<i32>,
    session_id: Option<i32>,
    output: &str,
    max_output_tokens: Option<usize>,
) -> String {
    let mut s = format!(
        "Chunk ID: {}\nWall time: {:.4} seconds\n",
        chunk_id(),
        wall.as_secs_f64()
    );
    if let Some(code) = exit_code {
        s.push_str(&format!("Process exited with code {code}\n"));
    }
    if let Some(id) = session_id {
        s.push_str(&format!("Process running with session ID {id}\n"));
    }
    let budget = max_output_tokens.unwrap_or(codex_exec::format::DEFAULT_MAX_OUTPUT_TOKENS);
    s.push_str(&format!(
        "Original token count: {}\nOutput:\n{}",
        codex_exec::approx_token_count(output),
        codex_exec::truncate_middle(output, TruncationPolicy::Tokens(budget))
    ));
    s
}

/// `write_stdin`: polls a session. Commands run with stdin on `/dev/null`, so only empty
/// `chars` (a poll) is accepted.
async fn write_stdin(scope: &mut CallScope, call: &ToolCall) -> Result<String, ToolError> {
    let args: WriteStdinArgs = call.parse_args()?;
    let ctx = scope.ctx.clone();
    let sessions = ctx.tools.resource::<ExecSessions>();
    let Some(session) = sessions.session(args.session_id) else {
        return Ok(format!(
            "write_stdin failed: Unknown process id {}",
            args.session_id
        ));
    };
    if !args.chars.is_empty() {
        return Ok(format!(
            "write_stdin failed: session {} has no stdin: commands run with stdin closed (/dev/null), so input cannot be written. Poll with empty `chars`, or rerun the command with its input in the command itself (a pipe, a heredoc or a file).",
            args.session_id
        ));
    }
    let start = Instant::now();
    let limit = Duration::from_millis(
        args.yield_time_ms
            .unwrap_or(MIN_POLL_MS)
            .clamp(MIN_POLL_MS, MAX_POLL_MS),
    );
    let finished = session.process.wait(limit, &ctx.cancel).await;
    let output = session.process.take_unread();
    let Some(finished) = finished else {
        if ctx.cancel.is_cancelled() {
            return Ok(aborted(start));
        }
        return Ok(unified_text(
            start.elapsed(),
            None,
            Some(args.session_id),
            &output,
            args.max_output_tokens,
        ));
    };
    sessions.remove(args.session_id);
    if finished.cancelled {
        return Ok(format!(
            "write_stdin failed: session {} was killed when its turn was interrupted",
            args.session_id
        ));
    }
    let template = Template {
        id: session.item_id.clone(),
        command: session.command.clone(),
        cwd: session.cwd.clone(),
        actions: session.actions.clone(),
        source: session.source,
        started_ms: session.started_ms,
    };
    scope
        .item_completed_in(
            &session.turn_id,
            template.item(
                Some(args.session_id),
                final_status(&finished),
                Some(&finished),
            ),
            session.started_ms,
        )
        .await;
    if let Some(err) = &finished.error {
        return Ok(format!("execution error: {err}"));
    }
    Ok(unified_text(
        start.elapsed(),
        Some(finished.exit_code),
        None,
        &output,
        args.max_output_tokens,
    ))
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
