//! `codex exec`: one turn, headless, through the same runtime as the app-server.
//!
//! # Layout
//! - [`args`]: the command-line grammar (everything `@openai/codex-sdk` passes).
//! - [`prompt`], [`workspace`], [`request`]: checks and requests built before the runtime
//!   starts, so bad input fails before any model request.
//! - [`source`]: the event source, the only module that touches the runtime.
//! - [`mapper`]: app-server notifications to exec events; [`events`]: their JSON shapes.
//! - [`human`]: the stderr rendering without `--json`.
//!
//! This module runs the loop: start or resume the thread, start the turn, turn every
//! notification into exec events and print them, decline approval requests (nobody is there to
//! answer), and stop the turn on SIGINT/SIGTERM.

pub mod args;
pub mod events;
pub mod human;
pub mod mapper;
pub mod prompt;
pub mod request;
pub mod source;
pub mod workspace;

use codex_protocol::methods::typed::{ServerNotification, ServerRequest};
use codex_protocol::v2::{
    ApprovalDecision, CommandExecutionApprovalDecision, CommandExecutionRequestApprovalResponse,
    FileChangeRequestApprovalResponse, SortDirection, ThreadListCwdFilter, ThreadListParams,
    ThreadSortKey, TurnInterruptParams,
};
use events::ThreadEvent;
use human::HumanPrinter;
use mapper::{EventMapper, TurnOutcome};
use request::{ExecRequest, ThreadChoice};
use source::{EventSource, Incoming, SourceError};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How long a stopped turn may take to record its end before exec leaves anyway.
const STOP_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("no earlier session to resume in {0}")]
    NothingToResume(String),
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("listening for signals: {0}")]
    Signals(std::io::Error),
}

/// How the output looks.
pub struct OutputMode {
    pub json: bool,
    /// Colour on stderr (human mode).
    pub color: bool,
    /// Whether stderr is a terminal: the transient "working" line is shown there only.
    pub stderr_is_terminal: bool,
    pub output_last_message: Option<PathBuf>,
}

/// How exec ended; `main` turns it into the exit status.
#[derive(Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    Completed,
    Failed,
    /// Stopped by this signal (SIGINT 2, SIGTERM 15).
    Stopped(i32),
}

/// Prints exec events: JSON lines on stdout, or human text on stderr.
struct Printer {
    mode: OutputMode,
    human: HumanPrinter,
    status_shown: bool,
}

impl Printer {
    fn event(&mut self, event: &ThreadEvent) {
        if self.mode.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", event.to_line());
            let _ = out.flush();
            return;
        }
        let text = self.human.render(event);
        if text.is_empty() {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.status_shown {
            let _ = write!(err, "{}", human::CLEAR_STATUS);
            self.status_shown = false;
        }
        let _ = write!(err, "{text}");
    }

    fn status(&mut self, elapsed: Duration) {
        if self.mode.json || !self.mode.stderr_is_terminal {
            return;
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", human::status_line(elapsed));
        let _ = err.flush();
        self.status_shown = true;
    }

    fn warn(&mut self, message: &str) {
        if self.status_shown {
            eprint!("{}", human::CLEAR_STATUS);
            self.status_shown = false;
        }
        eprintln!("warning: {message}");
    }

    /// Human mode's answer on stdout, and `--output-last-message`.
    fn finish(&mut self, final_message: Option<&str>) -> Result<(), ExecError> {
        if self.status_shown {
            eprint!("{}", human::CLEAR_STATUS);
        }
        let held = self.human.take_final_message();
        let message = final_message.or(held.as_deref());
        if !self.mode.json {
            if let Some(text) = message {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
        }
        if let Some(path) = &self.mode.output_last_message {
            std::fs::write(path, message.unwrap_or_default()).map_err(|source| {
                ExecError::Write {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        }
        Ok(())
    }
}

/// Runs the turn to its end (or until a signal stops it).
pub async fn run(
    mut source: EventSource,
    request: ExecRequest,
    mode: OutputMode,
) -> Result<ExecOutcome, ExecError> {
    let color = mode.color;
    let mut printer = Printer {
        mode,
        human: HumanPrinter::new(color),
        status_shown: false,
    };
    let result = drive(&mut source, request, &mut printer).await;
    source.shutdown().await;
    if let Err(e) = &result {
        // The SDK reads only stdout; say it there too, in the stream's own terms.
        if printer.mode.json {
            printer.event(&ThreadEvent::Error {
                message: e.to_string(),
            });
        }
    }
    result
}

async fn drive(
    source: &mut EventSource,
    request: ExecRequest,
    printer: &mut Printer,
) -> Result<ExecOutcome, ExecError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate()).map_err(ExecError::Signals)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(ExecError::Signals)?;

    let (thread_id, sandbox) = match request.thread {
        ThreadChoice::Start(params) => {
            let r = source.start_thread(params).await?;
            (r.thread.id, r.sandbox)
        }
        ThreadChoice::Resume(params) => {
            let r = source.resume_thread(params).await?;
            (r.thread.id, r.sandbox)
        }
        ThreadChoice::ResumeLast { cwd, mut params } => {
            params.thread_id = latest_thread(source, &cwd).await?;
            let r = source.resume_thread(params).await?;
            (r.thread.id, r.sandbox)
        }
    };
    printer.event(&ThreadEvent::ThreadStarted {
        thread_id: thread_id.clone(),
    });
    let mut turn = request.turn;
    turn.thread_id = thread_id.clone();
    match request::with_added_dirs(&sandbox, &request.add_dirs) {
        Ok(policy) => turn.sandbox_policy = policy,
        Err(why) => printer.warn(&format!(
            "--add-dir is ignored: {why}; only workspace-write has writable roots"
        )),
    }
    let turn_id = source.start_turn(turn).await?.turn.id;

    let mut mapper = EventMapper::new();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut stopped_by: Option<i32> = None;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let stop_after = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let signal_number = tokio::select! {
            incoming = source.next() => {
                let Some(incoming) = incoming else { break };
                match incoming {
                    Incoming::Notification(n) => {
                        for event in mapper.map(&n) {
                            printer.event(&event);
                        }
                        if is_turn_end(&n, &turn_id) && mapper.outcome().is_some() {
                            break;
                        }
                    }
                    Incoming::Request { id, request } => {
                        decline(source, printer, &id, &request);
                    }
                }
                continue;
            }
            _ = tick.tick() => {
                printer.status(started.elapsed());
                continue;
            }
            _ = sigterm.recv() => 15,
            _ = sigint.recv() => 2,
            _ = stop_after => break,
        };
        if stopped_by.is_some() {
            // A second signal: leave now.
            break;
        }
        stopped_by = Some(signal_number);
        deadline = Some(tokio::time::Instant::now() + STOP_GRACE);
        if let Err(e) = source
            .interrupt(TurnInterruptParams {
                thread_id: thread_id.clone(),
                turn_id: turn_id.clone(),
            })
            .await
        {
            tracing::debug!("interrupting the turn: {e}");
        }
    }
    printer.finish(mapper.final_message())?;
    Ok(match (stopped_by, mapper.outcome()) {
        (Some(signal), _) => ExecOutcome::Stopped(signal),
        (None, Some(TurnOutcome::Completed)) => ExecOutcome::Completed,
        (None, _) => ExecOutcome::Failed,
    })
}

fn is_turn_end(n: &ServerNotification, turn_id: &str) -> bool {
    matches!(n, ServerNotification::TurnCompleted(c) if c.turn.id == turn_id)
}

/// Exec has nobody to ask, so approvals are declined (the turn goes on without the action).
fn decline(
    source: &EventSource,
    printer: &mut Printer,
    id: &codex_protocol::jsonrpc::RequestId,
    request: &ServerRequest,
) {
    match request {
        ServerRequest::CommandExecutionRequestApproval(p) => {
            printer.warn(&format!(
                "declined `{}`: exec cannot ask for approval (use --sandbox or approval_policy)",
                p.command
            ));
            source.answer(
                id,
                &CommandExecutionRequestApprovalResponse {
                    decision: CommandExecutionApprovalDecision::Simple(ApprovalDecision::Decline),
                },
            );
        }
        ServerRequest::FileChangeRequestApproval(_) => {
            printer.warn("declined a file change: exec cannot ask for approval");
            source.answer(
                id,
                &FileChangeRequestApprovalResponse {
                    decision: ApprovalDecision::Decline,
                },
            );
        }
        ServerRequest::McpServerElicitation(p) => {
            printer.warn(&format!(
                "declined a request from the {} MCP server: exec cannot ask the user",
                p.server_name
            ));
            source.answer(
                id,
                &codex_protocol::v2::McpServerElicitationRequestResponse {
                    action: codex_protocol::v2::McpServerElicitationAction::Decline,
                    content: None,
                    meta: None,
                },
            );
        }
        ServerRequest::DynamicToolCall(p) => {
            // Exec never registers client tools, so a call can only be a model's mistake.
            source.answer(
                id,
                &codex_protocol::v2::DynamicToolCallResponse {
                    content_items: vec![
                        codex_protocol::v2::DynamicToolCallOutputContentItem::InputText {
                            text: format!("tool `{}` is not available in codex exec", p.tool),
                        },
                    ],
                    success: false,
                },
            );
        }
    }
}

/// The most recently updated thread whose working directory is `cwd`.
async fn latest_thread(source: &EventSource, cwd: &std::path::Path) -> Result<String, ExecError> {
    let cwd_text = cwd.to_string_lossy().into_owned();
    let page = source
        .list_threads(ThreadListParams {
            cwd: Some(ThreadListCwdFilter::One(cwd_text.clone())),
            limit: Some(1),
            sort_key: Some(ThreadSortKey::UpdatedAt),
            sort_direction: Some(SortDirection::Desc),
            ..ThreadListParams::default()
        })
        .await?;
    page.data
        .into_iter()
        .next()
        .map(|t| t.id)
        .ok_or(ExecError::NothingToResume(cwd_text))
}
