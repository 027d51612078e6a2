//! `review/start`: a code review of the thread's working tree (uncommitted changes, a base
//! branch, a commit) or of whatever custom instructions name, run as a turn of its own.

use super::turn::Turn;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What to review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ReviewTarget {
    /// Staged, unstaged and untracked changes against `HEAD`.
    #[schemars(title = "UncommittedChangesReviewTarget")]
    UncommittedChanges,
    /// The working tree against the merge base with `branch`.
    #[schemars(title = "BaseBranchReviewTarget")]
    BaseBranch { branch: String },
    /// The changes one commit introduced.
    #[schemars(title = "CommitReviewTarget")]
    Commit {
        sha: String,
        /// Optional human-readable label (e.g., commit subject) for UIs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
    },
    /// Free-form review instructions, sent to the reviewer as they are.
    #[schemars(title = "CustomReviewTarget")]
    Custom { instructions: String },
}

/// Where the review runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReviewDelivery {
    /// A turn on the thread itself.
    #[default]
    Inline,
    /// A turn on a new thread forked from it (named by `reviewThreadId`).
    Detached,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStartParams {
    pub thread_id: String,
    pub target: ReviewTarget,
    /// Inline (default) on the thread, or detached on a new thread forked from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<ReviewDelivery>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewStartResponse {
    pub turn: Turn,
    /// The thread the review runs on: the thread itself when inline, the new thread when
    /// detached.
    pub review_thread_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_and_delivery_have_the_official_spelling() {
        let cases = [
            (
                json!({"type": "uncommittedChanges"}),
                ReviewTarget::UncommittedChanges,
            ),
            (
                json!({"type": "baseBranch", "branch": "main"}),
                ReviewTarget::BaseBranch {
                    branch: "main".into(),
                },
            ),
            (
                json!({"type": "commit", "sha": "abc", "title": "Fix"}),
                ReviewTarget::Commit {
                    sha: "abc".into(),
                    title: Some("Fix".into()),
                },
            ),
            (
                json!({"type": "custom", "instructions": "Look at naming"}),
                ReviewTarget::Custom {
                    instructions: "Look at naming".into(),
                },
            ),
        ];
        for (wire, target) in cases {
            assert_eq!(
                serde_json::from_value::<ReviewTarget>(wire.clone()).unwrap(),
                target
            );
            assert_eq!(serde_json::to_value(&target).unwrap(), wire);
        }
        let p: ReviewStartParams = serde_json::from_value(
            json!({"threadId": "t", "target": {"type": "commit", "sha": "abc"}, "delivery": "detached"}),
        )
        .unwrap();
        assert_eq!(p.delivery, Some(ReviewDelivery::Detached));
        assert!(matches!(p.target, ReviewTarget::Commit { title: None, .. }));
    }
}
