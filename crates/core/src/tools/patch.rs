//! `apply_patch` (freeform or function tool, or intercepted from a shell heredoc): verify the
//! patch, decide per §5.7 whether it may be written (writable roots, approval policy, session
//! approvals), ask the client when needed, apply it in-process, and report a `fileChange` item
//! plus the turn's aggregated diff.

use super::approval::{self, Decision, Mode};
use super::call::{ToolCall, ToolError, ToolOutput, ToolPayload};
use super::context::CallScope;
use super::tool::{Family, Tool, ToolFuture, ToolNeeds};
use crate::clock::now_ms;
use codex_apply_patch::{FileChangeKind, WritePolicy};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use std::path::{Path, PathBuf};
use std::time::Instant;

const REJECTED: &str = "patch rejected by user";

/// The `apply_patch` tool: freeform for codex models, a function for the older tool set.
pub struct ApplyPatch;

impl Tool for ApplyPatch {
    fn name(&self) -> &str {
        "apply_patch"
    }

    fn spec(&self, family: Family) -> Option<serde_json::Value> {
        match family {
            Family::Codex => Some(codex_apply_patch::apply_patch_freeform_tool()),
            Family::Legacy => Some(codex_apply_patch::apply_patch_function_tool()),
            Family::Unknown => None,
        }
    }

    fn needs(&self) -> ToolNeeds {
        ToolNeeds {
            sandbox: true,
            approval: true,
        }
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move {
            let input = match &call.payload {
                ToolPayload::Custom { input } => input.clone(),
                ToolPayload::Function { .. } => {
                    #[derive(serde::Deserialize)]
                    struct Args {
                        input: String,
                    }
                    call.parse_args::<Args>()?.input
                }
            };
            let cwd = scope.ctx.settings.cwd.clone();
            Ok::<_, ToolError>(ToolOutput::Text(
                apply(scope, &call.call_id, &input, &cwd).await,
            ))
        })
    }
}

/// Whether each path may be written under the sandbox policy without asking.
fn all_writable(policy: &SandboxPolicy, cwd: &Path, paths: &[PathBuf]) -> bool {
    let exec_policy = super::command::exec_policy(policy);
    if exec_policy.has_full_disk_write_access() {
        return true;
    }
    let roots = codex_exec::writable_roots(&exec_policy, cwd);
    paths.iter().all(|p| {
        roots.iter().any(|root| {
            WritePolicy::restricted(vec![root.root.clone()])
                .allows(p)
                .unwrap_or(false)
                && !root.read_only_subpaths.iter().any(|ro| p.starts_with(ro))
        })
    })
}

fn wire_changes(changes: &[codex_apply_patch::FileChange]) -> Vec<FileUpdateChange> {
    changes
        .iter()
        .map(|c| FileUpdateChange {
            path: c.path.clone(),
            kind: match &c.kind {
                FileChangeKind::Add => PatchChangeKind::Add,
                FileChangeKind::Delete => PatchChangeKind::Delete,
                FileChangeKind::Update { move_path } => PatchChangeKind::Update {
                    move_path: move_path.clone(),
                },
            },
            diff: c.unified_diff.clone(),
        })
        .collect()
}

fn freeform(exit_code: i32, text: String, start: Instant) -> String {
    codex_exec::format_exec_output_freeform(
        &codex_exec::ExecOutput {
            exit_code,
            stdout: String::new(),
            stderr: String::new(),
            aggregated_output: text,
            duration: start.elapsed(),
            timed_out: false,
        },
        codex_exec::TruncationPolicy::Bytes(10_000),
    )
}

/// Applies `patch_text` relative to `cwd` as item `item_id`; returns the text for the model.
pub async fn apply(scope: &mut CallScope, item_id: &str, patch_text: &str, cwd: &Path) -> String {
    let start = Instant::now();
    let ctx = scope.ctx.clone();
    let patch = match codex_apply_patch::parse_patch(patch_text) {
        Ok(p) => p,
        Err(e) => return format!("apply_patch verification failed: {e}"),
    };
    if patch.hunks.is_empty() {
        return "patch rejected: empty patch".to_string();
    }
    // Verify against the files as they are, without any write restriction: where it may write
    // is decided below, and verification errors (missing context, missing file) come first.
    let preview = match codex_apply_patch::compute_changes(&patch, cwd, &WritePolicy::full_access())
    {
        Ok(o) => o,
        Err(e) => return format!("apply_patch verification failed: {e}"),
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for c in &preview.changes {
        paths.push(c.path.clone());
        if let FileChangeKind::Update {
            move_path: Some(dest),
        } = &c.kind
        {
            paths.push(dest.clone());
        }
    }
    let mode = Mode::of(&ctx.settings.approval_policy);
    let session_approved = ctx
        .tools
        .approvals
        .lock()
        .is_ok_and(|a| paths.iter().all(|p| a.patch_paths.contains(p)));
    let writable = all_writable(&ctx.settings.sandbox, cwd, &paths);
    let ask = if session_approved {
        false
    } else if mode == Mode::Untrusted {
        true
    } else if writable {
        false
    } else if mode == Mode::Never {
        return "patch rejected: writing outside of the project; rejected by user approval settings"
            .to_string();
    } else {
        true
    };
    let changes = wire_changes(&preview.changes);
    let started_ms = now_ms();
    let item = |status| ThreadItem::FileChange {
        id: item_id.to_string(),
        changes: changes.clone(),
        status,
    };
    // Every path is now either inside the writable roots (checked above, including protected
    // subpaths the library cannot express) or approved by the user.
    let write_policy = WritePolicy::full_access();
    if ask {
        ctx.set_waiting(true, true).await;
        ctx.item_started(&item(PatchApplyStatus::InProgress), started_ms)
            .await;
        let decision = approval::ask::<m::FileChangeRequestApproval>(
            &ctx,
            &FileChangeRequestApprovalParams {
                thread_id: ctx.thread_id.clone(),
                turn_id: ctx.turn_id.clone(),
                item_id: item_id.to_string(),
                started_at_ms: started_ms,
                reason: (!writable)
                    .then(|| "the patch writes outside the writable roots".to_string()),
                grant_root: None,
            },
        )
        .await;
        match decision {
            Decision::Accept => ctx.set_waiting(false, true).await,
            Decision::AcceptForSession => {
                if let Ok(mut approvals) = ctx.tools.approvals.lock() {
                    approvals.patch_paths.extend(paths.iter().cloned());
                }
                ctx.set_waiting(false, true).await;
            }
            d @ (Decision::Decline | Decision::Cancel) => {
                scope
                    .item_completed(item(PatchApplyStatus::Declined), started_ms)
                    .await;
                ctx.set_waiting(false, true).await;
                if d == Decision::Cancel {
                    ctx.cancel.cancel();
                }
                return REJECTED.to_string();
            }
            Decision::Interrupted => {
                ctx.set_waiting(false, false).await;
                return "aborted by user".to_string();
            }
        }
    } else {
        ctx.item_started(&item(PatchApplyStatus::InProgress), started_ms)
            .await;
    }
    if let Ok(mut diff) = ctx.tools.diff.lock() {
        diff.track(&ctx.turn_id, &paths);
        for c in &preview.changes {
            if let FileChangeKind::Update {
                move_path: Some(dest),
            } = &c.kind
            {
                diff.track_move(&ctx.turn_id, &c.path, dest);
            }
        }
    }
    // What the files held before, so a revert of this turn can put them back.
    let before = crate::checkpoint::Before::capture(&paths);
    let result = codex_apply_patch::apply_patch(&patch, cwd, &write_policy);
    let checkpoint = before.finish(&ctx.turn_id, item_id);
    let (status, text) = match result {
        Ok(outcome) => (
            PatchApplyStatus::Completed,
            freeform(0, outcome.summary, start),
        ),
        Err(e) => (PatchApplyStatus::Failed, freeform(1, e.to_string(), start)),
    };
    scope
        .item_completed_with(item(status), started_ms, checkpoint.into_iter().collect())
        .await;
    let diff = ctx
        .tools
        .diff
        .lock()
        .map(|d| d.render(&ctx.turn_id, &ctx.settings.cwd))
        .unwrap_or_default();
    if !diff.is_empty() {
        ctx.sink
            .notify::<m::TurnDiffUpdated>(&TurnDiffUpdatedNotification {
                thread_id: ctx.thread_id.clone(),
                turn_id: ctx.turn_id.clone(),
                diff,
            })
            .await;
    }
    text
}
