//! Asking the client to approve a shell command (`item/commandExecution/requestApproval`),
//! before it runs or to rerun it without the sandbox; the item is announced as the question
//! is asked, and completed as declined when the answer is no.

use super::approval::{self, Decision};
use super::command_item::CommandItem;
use super::context::CallScope;
use crate::clock::now_ms;
use codex_protocol::methods as m;
use codex_protocol::v2::*;

const REJECTED: &str = "exec command rejected by user";

/// Asks the client about `template`'s command. `Err` carries the text for the model.
pub async fn ask(
    scope: &mut CallScope,
    template: &CommandItem,
    reason: Option<String>,
    amendment: Option<Vec<String>>,
    item_started: bool,
) -> Result<(), String> {
    let ctx = scope.ctx.clone();
    ctx.set_waiting(true, true).await;
    if !item_started {
        ctx.item_started(&template.started(None), template.started_ms)
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
                .item_completed(template.declined(), template.started_ms)
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
