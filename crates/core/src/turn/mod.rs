//! The turn loop: one task per turn that streams model responses, runs the tools the model
//! calls, feeds their outputs back, and ends with exactly one `turn/completed`, whatever fails.
//!
//! # Layout (each module uses only those listed before it)
//! - `env`: [`TurnEnv`], the narrow environment a turn runs in (sink, store, tasks, model
//!   client, settings, the client's identity).
//! - `outcome`: how a turn or an exchange ends.
//! - `lease`: the turn's hold on its thread's lease (renewed while it runs).
//! - `recorder`: the turn's record: announced items, history, batched rollout lines.
//! - `stream`: one model exchange, streamed.
//! - `compact`: compaction, as its own turn or inline when usage crosses the limit.
//! - `finish`: the end of a turn.
//! - `review`: a review turn (the reviewer's requests and the hand-over to the thread).
//! - `user_shell`: a turn that runs the user's shell command (`thread/shellCommand`).
//! - this module: [`TurnLaunch`] and the loop.

mod compact;
mod env;
mod finish;
mod lease;
mod outcome;
mod recorder;
mod review;
mod stream;
mod user_shell;

pub use env::TurnEnv;

use crate::clock::now_ms;
use crate::rollout;
use crate::settings::ThreadSettings;
use crate::thread::{LoadedThread, TurnKind};
use crate::tools::{run_calls, Family, ToolCall, ToolCtx};
use codex_model::ModelClient;
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use finish::Timing;
use outcome::{Outcome, Stop};
use recorder::Recorder;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use stream::Exchange;
use tokio_util::sync::CancellationToken;

/// Context window assumed for models without configured metadata (the official fallback).
pub const FALLBACK_CONTEXT_WINDOW: i64 = 258_400;

/// What the turn was started for.
pub enum TurnRequest {
    User {
        input: Vec<UserInput>,
        output_schema: Option<Value>,
    },
    Compact,
    /// A code review (`review/start`), its target already resolved.
    Review(crate::review::ReviewPlan),
    /// The user's shell command (`thread/shellCommand`), without a model request.
    Shell(crate::tools::UserCommand),
}

/// A turn ready to run: the runtime prepares it under the thread's lock, answers the request,
/// then launches it, so the client sees the answer before the turn's notifications.
pub struct TurnLaunch {
    pub env: TurnEnv,
    pub thread: Arc<LoadedThread>,
    pub turn_id: String,
    pub kind: TurnKind,
    pub request: TurnRequest,
    pub cancel: CancellationToken,
    /// Input steered into the running turn, taken before each model request.
    pub pending_input: Arc<Mutex<Vec<Vec<UserInput>>>>,
    /// Set once the turn has recorded its end (interrupt and the next turn wait on it).
    pub finished: Arc<tokio::sync::watch::Sender<bool>>,
    pub started_at: i64,
}

impl TurnLaunch {
    /// Runs the turn on the runtime's task tracker.
    pub fn launch(self) {
        let tasks = self.env.tasks.clone();
        tasks.spawn(self.run());
    }

    async fn run(self) {
        let TurnLaunch {
            env,
            thread,
            turn_id,
            kind,
            request,
            cancel,
            pending_input,
            finished,
            started_at,
        } = self;
        // The runtime took the thread's lease before accepting the turn; keep it renewed.
        let lease = (!thread.ephemeral)
            .then(|| lease::TurnLease::hold(env.store.clone(), thread.id.clone(), cancel.clone()));
        let settings = Arc::new(thread.state.lock().await.settings.clone());
        let window = env
            .base
            .model_context_window
            .unwrap_or(FALLBACK_CONTEXT_WINDOW);
        let mut rec = Recorder::new(
            env.sink.clone(),
            env.store.clone(),
            thread.clone(),
            turn_id,
            window,
        );
        let timing = Timing {
            started: Instant::now(),
            started_at,
        };
        announce_start(&mut rec, &settings, &timing).await;
        let outcome = match &env.model {
            Err(e) => Outcome::Failed(e.clone()),
            Ok(model) => {
                let mut turn = TurnRun {
                    env: &env,
                    model,
                    rec: &mut rec,
                    thread: &thread,
                    settings: &settings,
                    cancel: &cancel,
                    pending_input: &pending_input,
                };
                match request {
                    TurnRequest::User {
                        input,
                        output_schema,
                    } => turn.run_user(input, output_schema).await,
                    TurnRequest::Compact => match turn.compact().await {
                        Ok(()) => Outcome::Completed,
                        Err(stop) => stop.into(),
                    },
                    TurnRequest::Review(plan) => turn.review(plan).await,
                    TurnRequest::Shell(command) => {
                        user_shell::run(turn.rec, command, &cancel).await
                    }
                }
            }
        };
        finish::finish(rec, outcome, kind, &timing, &env.tasks, lease).await;
        finished.send_replace(true);
    }
}

async fn announce_start(rec: &mut Recorder, settings: &ThreadSettings, timing: &Timing) {
    rec.sink
        .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
            thread_id: rec.thread_id.clone(),
            status: ThreadStatus::Active {
                active_flags: Vec::new(),
            },
        })
        .await;
    rec.sink
        .notify::<m::TurnStarted>(&TurnStartedNotification {
            thread_id: rec.thread_id.clone(),
            turn: timing.wire_turn(
                &rec.turn_id,
                TurnStatus::InProgress,
                None,
                Vec::new(),
                &rec.usage,
            ),
        })
        .await;
    let entries = vec![
        rollout::task_started(&rec.turn_id, timing.started_at, rec.context_window),
        rollout::turn_context(&rec.turn_id, settings),
    ];
    rec.persist(entries);
}

/// A running turn's loop state.
struct TurnRun<'a> {
    env: &'a TurnEnv,
    model: &'a ModelClient,
    rec: &'a mut Recorder,
    thread: &'a Arc<LoadedThread>,
    settings: &'a Arc<ThreadSettings>,
    cancel: &'a CancellationToken,
    pending_input: &'a Mutex<Vec<Vec<UserInput>>>,
}

fn exchange<'b>(
    env: &'b TurnEnv,
    model: &'b ModelClient,
    cancel: &'b CancellationToken,
    emit_items: bool,
) -> Exchange<'b> {
    Exchange {
        model,
        client: &env.client,
        cancel,
        emit_items,
        subagent: None,
    }
}

impl TurnRun<'_> {
    async fn compact(&mut self) -> Result<(), Stop> {
        self.rec.flush_soon().await;
        let exchange = exchange(self.env, self.model, self.cancel, false);
        compact::compact(self.rec, &exchange, self.settings, &self.env.base).await
    }

    async fn record_user_input(&mut self, input: &[UserInput]) -> Result<(), Stop> {
        let content = crate::input::to_content(input).map_err(|e| {
            Stop::Failed(TurnError::new(
                e.to_string(),
                CodexErrorInfo::Kind(CodexErrorKind::BadRequest),
            ))
        })?;
        let started = now_ms();
        let item = ThreadItem::UserMessage {
            id: uuid::Uuid::now_v7().to_string(),
            content: input.to_vec(),
            client_id: None,
        };
        self.rec.emit_item_started(&item, started).await;
        let mut messages = Vec::with_capacity(1);
        if !content.is_empty() {
            messages.push(rollout::user_message_item(content));
        }
        messages.extend(self.skill_messages(input).await);
        self.rec.record_history(messages).await;
        self.rec.complete_item(item, started).await;
        Ok(())
    }

    /// One `<skill>` user message per `{type: "skill"}` input, holding the whole SKILL.md. A
    /// file that cannot be read is left out with a `warning`; the turn goes on without it.
    async fn skill_messages(&self, input: &[UserInput]) -> Vec<Value> {
        let mut messages = Vec::new();
        for (name, path) in input.iter().filter_map(|i| match i {
            UserInput::Skill { name, path } => Some((name, path)),
            _ => None,
        }) {
            match crate::skills::Skills::skill_message(name, path).await {
                Ok(text) => messages.push(rollout::user_message_item(vec![
                    serde_json::json!({"type": "input_text", "text": text}),
                ])),
                Err(e) => {
                    self.rec
                        .sink
                        .notify::<m::Warning>(&WarningNotification {
                            thread_id: Some(self.rec.thread_id.clone()),
                            message: format!("skill `{name}` was not added: {e}"),
                        })
                        .await;
                }
            }
        }
        messages
    }

    fn take_pending_input(&self) -> Vec<Vec<UserInput>> {
        self.pending_input
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }

    fn tool_ctx(&self) -> ToolCtx {
        ToolCtx {
            sink: self.rec.sink.clone(),
            thread_id: self.rec.thread_id.clone(),
            turn_id: self.rec.turn_id.clone(),
            cancel: self.cancel.clone(),
            settings: self.settings.clone(),
            tools: self.thread.tools.clone(),
            status: self.thread.status.clone(),
            rollout: (!self.thread.ephemeral).then(|| self.env.store.clone()),
            tasks: self.env.tasks.clone(),
        }
    }

    async fn run_user(&mut self, input: Vec<UserInput>, output_schema: Option<Value>) -> Outcome {
        if let Err(stop) = self.record_user_input(&input).await {
            return stop.into();
        }
        // Listed once per turn: a skill added meanwhile shows from the next turn on.
        let skills = self.env.skills.instructions(&self.settings.cwd).await;
        loop {
            if self.cancel.is_cancelled() {
                return Outcome::Interrupted;
            }
            for steered in self.take_pending_input() {
                if let Err(stop) = self.record_user_input(&steered).await {
                    return stop.into();
                }
            }
            if compact::needs_auto_compaction(self.rec, &self.env.base).await {
                if let Err(stop) = self.compact().await {
                    return stop.into();
                }
            }
            // MCP servers still starting get their grace; the ready ones' tools join the set.
            crate::tools::before_model_request(&self.tool_ctx(), &self.thread.registry).await;
            // One snapshot per request: the tools the model is shown answer its calls, even if
            // the thread's tools change meanwhile.
            let tools = self.thread.registry.snapshot();
            let body = {
                let st = self.thread.state.lock().await;
                crate::prompt::request_body(&crate::prompt::PromptParts {
                    settings: self.settings,
                    thread_id: &self.rec.thread_id,
                    history: &st.history,
                    tools: tools.specs(Family::of(&self.settings.model)),
                    output_schema: output_schema.as_ref(),
                    project_docs: st.project_docs.as_deref(),
                    skills: skills.as_deref(),
                })
            };
            self.rec.flush_soon().await;
            let outputs = match exchange(self.env, self.model, self.cancel, true)
                .run(self.rec, body)
                .await
            {
                Ok(o) => o,
                Err(stop) => return stop.into(),
            };
            let calls: Vec<ToolCall> = outputs.iter().filter_map(ToolCall::from_item).collect();
            self.rec.record_history(outputs).await;
            if calls.is_empty() {
                // Decide under the thread-state lock, where input joins a turn: either the
                // pending input runs now, or the turn closes to new input.
                let mut st = self.thread.state.lock().await;
                let has_pending = self
                    .pending_input
                    .lock()
                    .map(|p| !p.is_empty())
                    .unwrap_or(false);
                if has_pending {
                    continue;
                }
                if let Some(active) = st.active.as_mut().filter(|a| a.turn_id == self.rec.turn_id) {
                    active.closing = true;
                }
                return Outcome::Completed;
            }
            // The response is on disk before its calls run: they may wait a long time (an
            // approval, a command), and a crash meanwhile must not lose the turn.
            self.rec.flush_now().await;
            let results = run_calls(&self.tool_ctx(), &tools, calls).await;
            let interrupted = self.cancel.is_cancelled();
            let mut outputs = Vec::with_capacity(results.len());
            for result in results {
                self.rec.record_completed(result.completed);
                outputs.push(result.output);
            }
            self.rec.record_history(outputs).await;
            if interrupted {
                return Outcome::Interrupted;
            }
        }
    }
}
