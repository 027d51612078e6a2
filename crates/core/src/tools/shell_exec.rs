//! Running an approved shell command for the model, and the model-facing text of each outcome:
//! `exec_command` starts a session (on a pseudo-terminal with `tty`) that may outlive the call,
//! `shell_command` runs a script to its end or its timeout, `write_stdin` writes to or polls a
//! session. A sandboxed command that looks stopped by the sandbox is offered to the user to
//! rerun without it, where the approval policy allows.

use super::approval::Mode;
use super::command;
use super::command_deltas::DeltaTarget;
use super::command_item::{CommandItem, ItemEnd};
use super::command_run::{run_to_end, Finished};
use super::context::{CallScope, ToolCtx};
use super::sessions::{ExecSessions, PollOutcome, SessionStart, StartOutcome};
use super::shell_approval::ask;
use codex_exec::{ProcessIo, ProcessSpec, SandboxSupport, TerminalSize, TruncationPolicy};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Bytes of output kept in memory per one-shot command (head and tail).
const OUTPUT_CAP_BYTES: usize = 1024 * 1024;
const DEFAULT_SHELL_TIMEOUT_MS: u64 = 10_000;
const RETRY_REASON: &str = "command failed; retry without sandbox?";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ExecCommand,
    ShellCommand,
}

#[derive(Deserialize)]
pub struct ExecArgs {
    #[serde(alias = "command")]
    pub cmd: String,
    pub workdir: Option<String>,
    pub shell: Option<String>,
    pub login: Option<bool>,
    /// Run on a pseudo-terminal, so the session takes input (`exec_command` only).
    pub tty: Option<bool>,
    pub yield_time_ms: Option<u64>,
    pub max_output_tokens: Option<usize>,
    pub timeout_ms: Option<u64>,
    pub sandbox_permissions: Option<String>,
    pub justification: Option<String>,
}

/// An approved command, ready to run.
pub struct Plan<'a> {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub kind: Kind,
    pub args: &'a ExecArgs,
    /// `item/started` was already sent (the approval request announced the item).
    pub item_started: bool,
    /// The user approved this command (a denied sandbox then reruns without asking again).
    pub approved: bool,
    pub mode: Mode,
}

fn sandbox_support() -> &'static SandboxSupport {
    static SUPPORT: OnceLock<SandboxSupport> = OnceLock::new();
    SUPPORT.get_or_init(codex_exec::sandbox_support)
}

/// Why a sandboxed command cannot run on this host, if it cannot.
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

fn aborted(start: Instant) -> String {
    format!(
        "Wall time: {:.1} seconds\naborted by user",
        start.elapsed().as_secs_f64()
    )
}

/// How one attempt at running the command went.
enum Attempt {
    /// The command ended (or could not start): its item's end and the text for the model.
    Ended(ItemEnd, String),
    /// The session is still running; its item completes when it exits.
    Running(String),
    /// The turn was interrupted while the command ran; it was killed.
    Interrupted,
}

/// Runs `plan` under `sandbox`, reporting `template`'s item; returns the text for the model.
pub async fn execute(
    scope: &mut CallScope,
    template: &CommandItem,
    mut plan: Plan<'_>,
    mut sandbox: codex_exec::SandboxPolicy,
) -> String {
    let ctx = scope.ctx.clone();
    let start = Instant::now();
    loop {
        if let Some(text) = sandbox_refusal(&sandbox) {
            if !plan.item_started {
                ctx.item_started(&template.started(None), template.started_ms)
                    .await;
            }
            let end = ItemEnd::of(&Finished::not_run(text.clone()));
            scope
                .item_completed(template.ended(None, &end), template.started_ms)
                .await;
            return text;
        }
        let id = ctx.tools.resource::<ExecSessions>().reserve_id();
        if !plan.item_started {
            ctx.item_started(&template.started(Some(id)), template.started_ms)
                .await;
            plan.item_started = true;
        }
        let attempt = match plan.kind {
            Kind::ExecCommand => start_session(&ctx, template, &plan, &sandbox, id).await,
            Kind::ShellCommand => run_script(&ctx, template, &plan, &sandbox).await,
        };
        let (end, text) = match attempt {
            Attempt::Ended(end, text) => (end, text),
            Attempt::Running(text) => return text,
            Attempt::Interrupted => return aborted(start),
        };
        let sandboxed = !matches!(sandbox, codex_exec::SandboxPolicy::DangerFullAccess);
        if sandboxed
            && plan.mode.retries_unsandboxed()
            && end
                .exit_code
                .is_some_and(|code| command::looks_sandbox_denied(code, &end.output))
        {
            if !plan.approved {
                if let Err(text) =
                    ask(scope, template, Some(RETRY_REASON.to_string()), None, true).await
                {
                    return text;
                }
                plan.approved = true;
            }
            sandbox = codex_exec::SandboxPolicy::DangerFullAccess;
            continue;
        }
        scope
            .item_completed(template.ended(Some(id), &end), template.started_ms)
            .await;
        return text;
    }
}

/// `exec_command`: starts session `id` (on a terminal with `tty`) and waits up to its yield.
async fn start_session(
    ctx: &ToolCtx,
    template: &CommandItem,
    plan: &Plan<'_>,
    sandbox: &codex_exec::SandboxPolicy,
    id: i32,
) -> Attempt {
    let spec = ProcessSpec {
        argv: plan.argv.clone(),
        cwd: plan.cwd.clone(),
        env: command::child_env(!sandbox.has_full_network_access()),
        sandbox: sandbox.clone(),
        io: if plan.args.tty.unwrap_or(false) {
            ProcessIo::Pty {
                size: TerminalSize::default(),
            }
        } else {
            ProcessIo::Pipes { stdin: false }
        },
    };
    let start = SessionStart {
        id,
        item: template.clone(),
        spec,
        yield_time_ms: plan.args.yield_time_ms,
    };
    let model_text = |output: &codex_exec::UnifiedExecOutput| {
        output.to_model_text(&codex_exec::new_chunk_id(), plan.args.max_output_tokens)
    };
    match ctx.tools.resource::<ExecSessions>().start(ctx, start).await {
        Err(e) => Attempt::Ended(
            ItemEnd::of(&Finished::not_run(e.to_string())),
            format!("execution error: {e}"),
        ),
        Ok(StartOutcome::Interrupted) => Attempt::Interrupted,
        Ok(StartOutcome::Running { output }) => Attempt::Running(model_text(&output)),
        Ok(StartOutcome::Exited { output, end }) => Attempt::Ended(end, model_text(&output)),
    }
}

/// `shell_command`: runs the script to its end or its timeout.
async fn run_script(
    ctx: &ToolCtx,
    template: &CommandItem,
    plan: &Plan<'_>,
    sandbox: &codex_exec::SandboxPolicy,
) -> Attempt {
    let timeout = Duration::from_millis(plan.args.timeout_ms.unwrap_or(DEFAULT_SHELL_TIMEOUT_MS));
    let request = codex_exec::ExecRequest {
        argv: plan.argv.clone(),
        cwd: plan.cwd.clone(),
        env: command::child_env(!sandbox.has_full_network_access()),
        timeout: Some(timeout),
        output_cap_bytes: OUTPUT_CAP_BYTES,
        sandbox: sandbox.clone(),
    };
    let target = DeltaTarget {
        sink: ctx.sink.clone(),
        thread_id: ctx.thread_id.clone(),
        turn_id: ctx.turn_id.clone(),
        item_id: template.id.clone(),
    };
    let finished = run_to_end(target, request, ctx.cancel.child_token()).await;
    if finished.cancelled {
        return Attempt::Interrupted;
    }
    let text = match &finished.error {
        Some(err) => format!("execution error: {err}"),
        None => codex_exec::format_exec_output_freeform(
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
    Attempt::Ended(ItemEnd::of(&finished), text)
}

/// `write_stdin`: the session's new output as the model sees it, or why the call failed.
pub async fn write_stdin(
    scope: &mut CallScope,
    session_id: i32,
    chars: &str,
    yield_time_ms: Option<u64>,
    max_output_tokens: Option<usize>,
) -> String {
    let start = Instant::now();
    let sessions = scope.ctx.tools.resource::<ExecSessions>();
    match sessions.poll(scope, session_id, chars, yield_time_ms).await {
        PollOutcome::Output(output) => {
            output.to_model_text(&codex_exec::new_chunk_id(), max_output_tokens)
        }
        PollOutcome::Failed(e) => e.model_text(),
        PollOutcome::Interrupted => aborted(start),
    }
}
