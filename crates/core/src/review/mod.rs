//! Code review: what a review target asks for, turned into what the reviewer model is told,
//! and the reviewer's answer turned into the text clients and the thread see.
//!
//! - `git`: the repository facts a target needs (diffs, commits, merge bases), bounded and
//!   sandboxed.
//! - `prompt`: the review guidelines, each target's prompt and label, the `<user_action>`
//!   message that hands the result to the thread.
//! - `output`: rendering JSON findings (or keeping plain text).
//!
//! The review turn itself is `turn::review`; `review/start` is `runtime::review`.

mod git;
mod output;
mod prompt;

pub use output::render_review;
pub use prompt::{review_results_message, REVIEW_GUIDELINES, REVIEW_INTERRUPTED_MESSAGE};

use crate::error::CoreError;
use codex_protocol::v2::ReviewTarget;
use git::Repo;
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// Bytes of diff a review prompt carries at most (about 50k tokens); the prompt says where
/// the rest is when a diff is longer.
pub const MAX_DIFF_BYTES: usize = 200 * 1024;

/// A review ready to run: the label clients see and the prompt the reviewer gets.
#[derive(Clone, Debug)]
pub struct ReviewPlan {
    pub label: String,
    pub prompt: String,
}

/// Resolves `target` in the repository that contains `cwd` (custom instructions need none).
///
/// # Errors
/// [`CoreError::InvalidParams`] for an empty field or a branch or commit the repository does
/// not have; [`CoreError::InvalidRequest`] when `cwd` is not in a git repository (or the
/// branch shares no history with `HEAD`); [`CoreError::Internal`] when git cannot run.
pub async fn plan(
    target: &ReviewTarget,
    cwd: &Path,
    cancel: &CancellationToken,
) -> Result<ReviewPlan, CoreError> {
    match target {
        ReviewTarget::Custom { instructions } => {
            let instructions = non_empty(instructions, "target.instructions")?;
            Ok(ReviewPlan {
                label: instructions.to_string(),
                prompt: instructions.to_string(),
            })
        }
        ReviewTarget::UncommittedChanges => {
            let repo = Repo::open(cwd, cancel).await?;
            let diff = repo.uncommitted(MAX_DIFF_BYTES).await?;
            Ok(ReviewPlan {
                label: prompt::UNCOMMITTED_LABEL.to_string(),
                prompt: prompt::uncommitted_prompt(&repo.root.display().to_string(), &diff),
            })
        }
        ReviewTarget::BaseBranch { branch } => {
            let branch = non_empty(branch, "target.branch")?;
            let repo = Repo::open(cwd, cancel).await?;
            let tip = repo.resolve_commit(branch).await?.ok_or_else(|| {
                CoreError::InvalidParams(format!(
                    "target.branch: {} has no branch or commit named `{branch}`",
                    repo.root.display()
                ))
            })?;
            let head = repo.resolve_commit("HEAD").await?.ok_or_else(|| {
                CoreError::InvalidRequest(format!(
                    "cannot review against `{branch}`: {} has no commits yet",
                    repo.root.display()
                ))
            })?;
            let merge_base = repo.merge_base(&head, &tip).await?;
            let diff = repo.diff_against(&merge_base, MAX_DIFF_BYTES).await?;
            Ok(ReviewPlan {
                label: prompt::base_branch_label(branch),
                prompt: prompt::base_branch_prompt(branch, &merge_base, &diff),
            })
        }
        ReviewTarget::Commit { sha, title } => {
            let sha = non_empty(sha, "target.sha")?;
            let repo = Repo::open(cwd, cancel).await?;
            let full = repo.resolve_commit(sha).await?.ok_or_else(|| {
                CoreError::InvalidParams(format!(
                    "target.sha: {} has no commit `{sha}`",
                    repo.root.display()
                ))
            })?;
            let patch = repo.show(&full, MAX_DIFF_BYTES).await?;
            Ok(ReviewPlan {
                label: prompt::commit_label(sha, title.as_deref()),
                prompt: prompt::commit_prompt(&full, title.as_deref(), &patch),
            })
        }
    }
}

fn non_empty<'a>(value: &'a str, field: &str) -> Result<&'a str, CoreError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(CoreError::InvalidParams(format!(
            "{field} must not be empty"
        )));
    }
    Ok(value)
}
