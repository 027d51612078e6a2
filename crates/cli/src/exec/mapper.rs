//! From app-server notifications to exec events: the one place that knows how a turn seen
//! through the app-server protocol reads as `codex exec --json` output.
//!
//! Rules, as the official 0.163 binary behaves:
//! - items get exec ids `item_0`, `item_1`, … in order of first appearance;
//! - commands and file changes have `item.started` and `item.completed`; agent messages and
//!   reasoning only `item.completed`; user messages and other items are not shown;
//! - plan updates become one `todo_list` item: started, then updated, completed at turn end;
//! - warnings are `error` items; a retried stream error is an `error` item too, since the turn
//!   goes on; a final error is an `error` event, and a failed turn ends with `error` then
//!   `turn.failed` carrying the same message.

use super::events::{
    ExecItem, FileChange, FileChangeKind, ItemDetails, ItemStatus, ThreadError, ThreadEvent,
    TodoItem, Usage,
};
use codex_protocol::methods::typed::ServerNotification;
use codex_protocol::v2::{
    CommandExecutionStatus, McpToolCallStatus, PatchApplyStatus, PatchChangeKind, ThreadItem,
    TokenUsageBreakdown, TurnPlanStepStatus, TurnStatus,
};
use std::collections::HashMap;

/// How the turn ended, once `turn/completed` has been seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TurnOutcome {
    Completed,
    Failed(String),
    Interrupted,
}

/// The message a turn stopped by the user (or SIGTERM) reports.
pub const INTERRUPTED_MESSAGE: &str = "turn interrupted";

#[derive(Default)]
pub struct EventMapper {
    next_item: u64,
    /// Server item id -> exec id, for items whose start was shown.
    ids: HashMap<String, String>,
    todo: Option<(String, Vec<TodoItem>)>,
    /// The last final error already printed as an `error` event.
    fatal_error: Option<String>,
    /// Sum of each model response's usage in this turn.
    usage: TokenUsageBreakdown,
    final_message: Option<String>,
    outcome: Option<TurnOutcome>,
}

impl EventMapper {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text of the last agent message: what exec prints on stdout.
    pub fn final_message(&self) -> Option<&str> {
        self.final_message.as_deref()
    }

    /// How the turn ended; `None` until `turn/completed`.
    pub fn outcome(&self) -> Option<&TurnOutcome> {
        self.outcome.as_ref()
    }

    fn new_id(&mut self) -> String {
        let id = format!("item_{}", self.next_item);
        self.next_item += 1;
        id
    }

    /// The exec id of a server item: the one given at its start, else a new one.
    fn id_for(&mut self, server_id: &str) -> String {
        match self.ids.remove(server_id) {
            Some(id) => id,
            None => self.new_id(),
        }
    }

    fn notice(&mut self, message: String) -> ThreadEvent {
        ThreadEvent::ItemCompleted {
            item: ExecItem {
                id: self.new_id(),
                details: ItemDetails::Error { message },
            },
        }
    }

    /// The exec events one notification produces (often none).
    pub fn map(&mut self, notification: &ServerNotification) -> Vec<ThreadEvent> {
        use ServerNotification as N;
        match notification {
            N::TurnStarted(_) => vec![ThreadEvent::TurnStarted {}],
            N::ItemStarted(n) => self.item_started(&n.item).into_iter().collect(),
            N::ItemCompleted(n) => self.item_completed(&n.item).into_iter().collect(),
            N::TurnPlanUpdated(n) => {
                let items: Vec<TodoItem> = n
                    .plan
                    .iter()
                    .map(|step| TodoItem {
                        text: step.step.clone(),
                        completed: step.status == TurnPlanStepStatus::Completed,
                    })
                    .collect();
                let (id, first) = match &self.todo {
                    Some((id, _)) => (id.clone(), false),
                    None => (self.new_id(), true),
                };
                self.todo = Some((id.clone(), items.clone()));
                let item = ExecItem {
                    id,
                    details: ItemDetails::TodoList { items },
                };
                vec![if first {
                    ThreadEvent::ItemStarted { item }
                } else {
                    ThreadEvent::ItemUpdated { item }
                }]
            }
            N::ThreadTokenUsageUpdated(n) => {
                self.usage.add(&n.token_usage.last);
                Vec::new()
            }
            N::Error(n) if n.will_retry => vec![self.notice(n.error.message.clone())],
            N::Error(n) => {
                self.fatal_error = Some(n.error.message.clone());
                vec![ThreadEvent::Error {
                    message: n.error.message.clone(),
                }]
            }
            N::Warning(n) => vec![self.notice(n.message.clone())],
            N::ConfigWarning(n) => {
                vec![self.notice(with_details(&n.summary, n.details.as_deref()))]
            }
            N::DeprecationNotice(n) => {
                vec![self.notice(with_details(&n.summary, n.details.as_deref()))]
            }
            N::TurnCompleted(n) => self.turn_completed(&n.turn),
            N::ThreadStarted(_)
            | N::ThreadStatusChanged(_)
            | N::ThreadArchived(_)
            | N::ThreadUnarchived(_)
            | N::ThreadClosed(_)
            | N::ThreadNameUpdated(_)
            | N::TurnDiffUpdated(_)
            | N::AgentMessageDelta(_)
            | N::ReasoningSummaryTextDelta(_)
            | N::ReasoningSummaryPartAdded(_)
            | N::ReasoningTextDelta(_)
            | N::CommandExecutionOutputDelta(_)
            | N::FileChangeOutputDelta(_)
            | N::FileChangePatchUpdated(_)
            | N::PlanDelta(_)
            | N::ServerRequestResolved(_)
            | N::AccountUpdated(_)
            | N::AccountLoginCompleted(_)
            | N::McpServerStartupStatusUpdated(_)
            | N::FsChanged(_)
            | N::SkillsChanged(_)
            | N::CommandExecOutputDelta(_)
            | N::TerminalInteraction(_)
            | N::ThreadReverted(_)
            | N::ThreadDeleted(_) => Vec::new(),
        }
    }

    fn item_started(&mut self, item: &ThreadItem) -> Option<ThreadEvent> {
        let details = match item {
            ThreadItem::CommandExecution { .. }
            | ThreadItem::FileChange { .. }
            | ThreadItem::McpToolCall { .. } => details(item)?,
            _ => return None,
        };
        let id = self.new_id();
        self.ids.insert(item.id().to_string(), id.clone());
        Some(ThreadEvent::ItemStarted {
            item: ExecItem { id, details },
        })
    }

    fn item_completed(&mut self, item: &ThreadItem) -> Option<ThreadEvent> {
        let details = details(item)?;
        if let ItemDetails::AgentMessage { text } = &details {
            self.final_message = Some(text.clone());
        }
        let id = self.id_for(item.id());
        Some(ThreadEvent::ItemCompleted {
            item: ExecItem { id, details },
        })
    }

    fn turn_completed(&mut self, turn: &codex_protocol::v2::Turn) -> Vec<ThreadEvent> {
        let mut events = Vec::new();
        if let Some((id, items)) = self.todo.take() {
            events.push(ThreadEvent::ItemCompleted {
                item: ExecItem {
                    id,
                    details: ItemDetails::TodoList { items },
                },
            });
        }
        let message = match turn.status {
            TurnStatus::Completed => {
                // Prefer the turn's own sum when the server reports it; it counts the same
                // responses as the per-response updates.
                let total = turn.usage.as_ref().map_or(self.usage, |u| u.total);
                events.push(ThreadEvent::TurnCompleted {
                    usage: usage_of(&total),
                });
                self.outcome = Some(TurnOutcome::Completed);
                return events;
            }
            TurnStatus::InProgress => return events,
            TurnStatus::Interrupted => {
                self.outcome = Some(TurnOutcome::Interrupted);
                INTERRUPTED_MESSAGE.to_string()
            }
            TurnStatus::Failed => {
                let message = turn
                    .error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .or_else(|| self.fatal_error.clone())
                    .unwrap_or_else(|| "turn failed".to_string());
                self.outcome = Some(TurnOutcome::Failed(message.clone()));
                message
            }
        };
        if self.fatal_error.as_deref() != Some(message.as_str()) {
            events.push(ThreadEvent::Error {
                message: message.clone(),
            });
        }
        events.push(ThreadEvent::TurnFailed {
            error: ThreadError { message },
        });
        events
    }
}

fn with_details(summary: &str, details: Option<&str>) -> String {
    match details {
        Some(d) if !d.is_empty() => format!("{summary}\n{d}"),
        _ => summary.to_string(),
    }
}

fn usage_of(b: &TokenUsageBreakdown) -> Usage {
    Usage {
        input_tokens: b.input_tokens,
        cached_input_tokens: b.cached_input_tokens,
        cache_write_input_tokens: b.cache_write_input_tokens,
        output_tokens: b.output_tokens,
        reasoning_output_tokens: b.reasoning_output_tokens,
    }
}

/// The exec payload of an app-server item; `None` for items exec does not show.
fn details(item: &ThreadItem) -> Option<ItemDetails> {
    Some(match item {
        ThreadItem::AgentMessage { text, .. } => ItemDetails::AgentMessage { text: text.clone() },
        ThreadItem::Reasoning {
            summary, content, ..
        } => {
            // The summary is what the model chose to show; raw content only when there is none.
            let parts = if summary.is_empty() { content } else { summary };
            let text = parts.join("\n");
            if text.is_empty() {
                return None;
            }
            ItemDetails::Reasoning { text }
        }
        ThreadItem::CommandExecution {
            command,
            status,
            aggregated_output,
            exit_code,
            ..
        } => ItemDetails::CommandExecution {
            command: command.clone(),
            aggregated_output: aggregated_output.clone().unwrap_or_default(),
            exit_code: *exit_code,
            status: match status {
                CommandExecutionStatus::InProgress => ItemStatus::InProgress,
                CommandExecutionStatus::Completed if exit_code.unwrap_or(0) == 0 => {
                    ItemStatus::Completed
                }
                CommandExecutionStatus::Completed
                | CommandExecutionStatus::Failed
                | CommandExecutionStatus::Declined => ItemStatus::Failed,
            },
        },
        ThreadItem::FileChange {
            changes, status, ..
        } => ItemDetails::FileChange {
            changes: changes
                .iter()
                .map(|c| FileChange {
                    path: c.path.to_string_lossy().into_owned(),
                    kind: match c.kind {
                        PatchChangeKind::Add => FileChangeKind::Add,
                        PatchChangeKind::Delete => FileChangeKind::Delete,
                        PatchChangeKind::Update { .. } => FileChangeKind::Update,
                    },
                })
                .collect(),
            status: match status {
                PatchApplyStatus::InProgress => ItemStatus::InProgress,
                PatchApplyStatus::Completed => ItemStatus::Completed,
                PatchApplyStatus::Failed | PatchApplyStatus::Declined => ItemStatus::Failed,
            },
        },
        ThreadItem::McpToolCall {
            server,
            tool,
            arguments,
            status,
            result,
            error,
            ..
        } => ItemDetails::McpToolCall {
            server: server.clone(),
            tool: tool.clone(),
            arguments: arguments.clone(),
            result: result.as_ref().map(|r| super::events::McpToolCallResult {
                content: r.content.clone(),
                structured_content: r.structured_content.clone(),
            }),
            error: error.as_ref().map(|e| ThreadError {
                message: e.message.clone(),
            }),
            status: match status {
                McpToolCallStatus::InProgress => ItemStatus::InProgress,
                McpToolCallStatus::Completed => ItemStatus::Completed,
                McpToolCallStatus::Failed => ItemStatus::Failed,
            },
        },
        // Exec has no client to define tools, so these never run here.
        ThreadItem::UserMessage { .. }
        | ThreadItem::Plan { .. }
        | ThreadItem::ImageView { .. }
        | ThreadItem::ContextCompaction { .. }
        | ThreadItem::DynamicToolCall { .. } => return None,
        // Exec never starts a review.
        ThreadItem::EnteredReviewMode { .. } | ThreadItem::ExitedReviewMode { .. } => return None,
    })
}

#[cfg(test)]
#[path = "mapper_tests.rs"]
mod tests;
