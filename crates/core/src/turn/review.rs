//! A review turn. The reviewer model gets the review guidelines in place of the base
//! instructions, the project's AGENTS.md and the environment, then the target's prompt; none of
//! the thread's history. It may read the workspace through the thread's command tools, under a
//! read-only sandbox and without approvals. Its exchanges stay out of the thread: what the
//! thread keeps is the rendered review, as a `<user_action>` user message and an assistant
//! message, so the next turn can act on it.
//!
//! Items, in order: `enteredReviewMode` (the label), the reviewer's command items if it ran
//! any, `exitedReviewMode` (the review), then an `agentMessage` with the same text (the turn's
//! final answer).

use super::outcome::{Outcome, Stop};
use super::stream::Exchange;
use super::TurnRun;
use crate::clock::now_ms;
use crate::prompt::{request_body, PromptParts};
use crate::review::{
    render_review, review_results_message, ReviewPlan, REVIEW_GUIDELINES,
    REVIEW_INTERRUPTED_MESSAGE,
};
use crate::rollout;
use crate::settings::ThreadSettings;
use crate::tools::{run_calls, Family, ToolCall, ToolCtx, ToolSet};
use codex_protocol::v2::{ApprovalMode, AskForApproval, SandboxPolicy, ThreadItem};
use serde_json::{json, Value};
use std::sync::Arc;

/// The thread's tools the reviewer may use: running commands (read-only here) and viewing
/// images. Editing, planning and client or MCP tools are not offered.
const REVIEWER_TOOLS: &[&str] = &["exec_command", "write_stdin", "shell_command", "view_image"];

impl TurnRun<'_> {
    pub(super) async fn review(&mut self, plan: ReviewPlan) -> Outcome {
        let entered = ThreadItem::EnteredReviewMode {
            id: uuid::Uuid::now_v7().to_string(),
            review: plan.label,
        };
        let started = now_ms();
        self.rec.emit_item_started(&entered, started).await;
        self.rec.complete_item(entered, started).await;
        // The reviewer's requests measure its own context, not the thread's: the thread keeps
        // the last measure of its own history, so a long diff does not set off compaction.
        let thread_last = self.thread.state.lock().await.usage.last;
        let answer = self.run_reviewer(&plan.prompt).await;
        self.thread.state.lock().await.usage.last = thread_last;
        let answer = match answer {
            Ok(answer) => answer,
            Err(Stop::Interrupted) => {
                // The thread learns that the review it may be asked about did not finish.
                self.rec
                    .record_history(vec![user_text(REVIEW_INTERRUPTED_MESSAGE)])
                    .await;
                return Outcome::Interrupted;
            }
            Err(Stop::Failed(e)) => return Outcome::Failed(e),
        };
        let review = render_review(&answer);
        let started = now_ms();
        let exited = ThreadItem::ExitedReviewMode {
            id: uuid::Uuid::now_v7().to_string(),
            review: review.clone(),
        };
        self.rec.emit_item_started(&exited, started).await;
        self.rec.complete_item(exited, started).await;
        self.rec
            .record_history(vec![
                user_text(&review_results_message(&review)),
                json!({"type": "message", "role": "assistant",
                       "content": [{"type": "output_text", "text": review}]}),
            ])
            .await;
        let id = format!("msg_{}", uuid::Uuid::now_v7());
        let message = |text: String| ThreadItem::AgentMessage {
            id: id.clone(),
            text,
            phase: None,
            memory_citation: None,
        };
        let started = now_ms();
        self.rec
            .emit_item_started(&message(String::new()), started)
            .await;
        self.rec.set_last_agent_message(&review);
        self.rec.complete_item(message(review), started).await;
        Outcome::Completed
    }

    /// The reviewer's conversation, kept here and never in the thread: requests until a
    /// response calls no tool. Returns the text of that response's last message.
    async fn run_reviewer(&mut self, prompt: &str) -> Result<String, Stop> {
        let settings = Arc::new(reviewer_settings(self.settings));
        let tools = Arc::new(reviewer_tools(&self.thread.registry.snapshot()));
        let specs = tools.specs(Family::of(&settings.model));
        let project_docs = self.thread.state.lock().await.project_docs.clone();
        let ctx = ToolCtx {
            settings: settings.clone(),
            ..self.tool_ctx()
        };
        let mut history = vec![user_text(prompt)];
        loop {
            if self.cancel.is_cancelled() {
                return Err(Stop::Interrupted);
            }
            let body = request_body(&PromptParts {
                settings: &settings,
                thread_id: &self.rec.thread_id,
                history: &history,
                tools: specs.clone(),
                output_schema: None,
                project_docs: project_docs.as_deref(),
                // The reviewer reads a diff; the user's skills are not its business.
                skills: None,
            });
            self.rec.flush_soon().await;
            let exchange = Exchange {
                model: self.model,
                client: &self.env.client,
                cancel: self.cancel,
                emit_items: false,
                subagent: Some("review"),
            };
            let outputs = exchange.run(self.rec, body).await?;
            let calls: Vec<ToolCall> = outputs.iter().filter_map(ToolCall::from_item).collect();
            let answer = outputs
                .iter()
                .rev()
                .find(|o| o["type"] == "message" && o["role"] != "user")
                .map(rollout::content_text);
            history.extend(outputs);
            if calls.is_empty() {
                return Ok(answer.unwrap_or_default());
            }
            self.rec.flush_soon().await;
            for result in run_calls(&ctx, &tools, calls).await {
                self.rec.record_completed(result.completed);
                history.push(result.output);
            }
        }
    }
}

/// The thread's settings as the reviewer runs with them: the guidelines instead of the base
/// instructions, no developer instructions of the thread's, a read-only sandbox without
/// network, and no approvals (a command that needs more is refused, not escalated).
fn reviewer_settings(thread: &ThreadSettings) -> ThreadSettings {
    let mut settings = thread.clone();
    settings.base_instructions = Some(REVIEW_GUIDELINES.to_string());
    settings.developer_instructions = None;
    settings.sandbox = SandboxPolicy::ReadOnly {
        network_access: false,
    };
    settings.approval_policy = AskForApproval::Mode(ApprovalMode::Never);
    settings
}

fn reviewer_tools(all: &ToolSet) -> ToolSet {
    ToolSet::new(
        REVIEWER_TOOLS
            .iter()
            .filter_map(|name| all.get(name).cloned())
            .collect(),
    )
}

fn user_text(text: &str) -> Value {
    rollout::user_message_item(vec![json!({"type": "input_text", "text": text})])
}
