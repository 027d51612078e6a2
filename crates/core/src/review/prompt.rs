//! The words of a review: the guidelines the reviewer model works under (they replace the
//! base instructions), the prompt for each target, the label clients show, and the
//! `<user_action>` message that hands the result to the thread.

use super::git::BoundedDiff;

/// The reviewer's instructions, sent as the first developer message of the review request.
pub const REVIEW_GUIDELINES: &str = r#"# Review guidelines

You are reviewing a code change someone else wrote. Find the problems its author would want to hear about before the change lands, and leave everything else alone.

Report an issue only when all of these hold:
1. It matters for correctness, security, performance, reliability or maintainability.
2. The change introduced it. Problems that were there before are out of scope.
3. It is one concrete problem that can be fixed, not a remark about the code base in general.
4. You can show how it goes wrong: the input, state or environment that triggers it, and the code it affects. Do not speculate about breakage you cannot point to.
5. It is not plainly what the author meant to do.
6. Fixing it does not ask for more rigour than the rest of the code base shows.

Write each finding as an inline review comment:
- The title says what is wrong, in at most 80 characters, and starts with its priority: [P0] blocks a release or breaks most uses, whatever the inputs; [P1] must be fixed soon; [P2] should be fixed; [P3] nice to have. Give the same number in "priority".
- The body is one short paragraph: why it is a bug, when it happens, and how severe it really is. Quote at most three lines of code, in backticks or a code block.
- The location is the shortest line range, inside the change, where the problem shows (a few lines, never a whole function).

Instructions from the project (AGENTS.md) or from the user's request take precedence over these guidelines. The workspace is read-only during a review: use your tools to read files and run read-only commands, never to change anything.

End with a verdict on the change as a whole: it is correct when existing code and tests keep working and it has no blocking bug. Style, naming, typos and documentation do not count against it.

Answer with exactly one JSON object, without Markdown fences or any text around it:
{
  "findings": [
    {
      "title": "[P1] <what is wrong>",
      "body": "<why it is a bug and when it happens>",
      "confidence_score": <number from 0.0 to 1.0>,
      "priority": <0, 1, 2 or 3>,
      "code_location": {
        "absolute_file_path": "<absolute path of the file>",
        "line_range": {"start": <first line>, "end": <last line>}
      }
    }
  ],
  "overall_correctness": "patch is correct" or "patch is incorrect",
  "overall_explanation": "<one to three sentences that justify the verdict>",
  "overall_confidence_score": <number from 0.0 to 1.0>
}
An empty "findings" list is the right answer when nothing qualifies."#;

/// The label of a review of uncommitted changes (the official wording).
pub const UNCOMMITTED_LABEL: &str = "current changes";

/// The label of a base-branch review.
pub fn base_branch_label(branch: &str) -> String {
    format!("changes against '{branch}'")
}

/// The label of a commit review: the short hash, and the title when the client gave one.
pub fn commit_label(sha: &str, title: Option<&str>) -> String {
    let short: String = sha.chars().take(7).collect();
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("commit {short}: {title}"),
        None => format!("commit {short}"),
    }
}

pub fn uncommitted_prompt(root: &str, diff: &BoundedDiff) -> String {
    let body = if diff.text.trim().is_empty() {
        "The working tree has no changes against HEAD and no untracked files.".to_string()
    } else {
        format!(
            "The diff against HEAD follows (untracked files appear as new files).\n\n{}",
            diff_block(diff, "git diff HEAD")
        )
    };
    format!(
        "Review the current code changes (staged, unstaged, and untracked files) in the \
         repository at {root} and provide prioritized findings.\n\n{body}"
    )
}

pub fn base_branch_prompt(branch: &str, merge_base: &str, diff: &BoundedDiff) -> String {
    format!(
        "Review the code changes against the base branch '{branch}'. The merge base commit for \
         this comparison is {merge_base}; the diff of the working tree against it follows. \
         Provide prioritized, actionable findings.\n\n{}",
        diff_block(diff, &format!("git diff {merge_base}"))
    )
}

pub fn commit_prompt(sha: &str, title: Option<&str>, patch: &BoundedDiff) -> String {
    let named = match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => format!("commit {sha} (\"{title}\")"),
        None => format!("commit {sha}"),
    };
    format!(
        "Review the code changes introduced by {named}. Provide prioritized, actionable \
         findings. The commit follows.\n\n{}",
        diff_block(patch, &format!("git show {sha}"))
    )
}

/// The diff in tags (a diff may hold Markdown fences), with a note when it was cut.
fn diff_block(diff: &BoundedDiff, full_command: &str) -> String {
    let note = if diff.truncated {
        format!("\n[The diff was cut to fit the request; run `{full_command}` to read the rest.]")
    } else {
        String::new()
    };
    format!("<diff>\n{}</diff>{note}", diff.text)
}

/// The user message that hands a finished review to the thread's history.
pub fn review_results_message(review: &str) -> String {
    format!(
        "<user_action>\n  <context>The user ran a code review. Below is the reviewer's full \
         output; the user may ask you to address some of its comments.</context>\n  \
         <action>review</action>\n  <results>\n{review}\n  </results>\n</user_action>"
    )
}

/// The user message left in the history when a review was interrupted.
pub const REVIEW_INTERRUPTED_MESSAGE: &str = "<user_action>\n  <context>The user started a code \
review and interrupted it before it finished, so there are no results. If asked about it, say \
so and offer to run it again.</context>\n  <action>review</action>\n</user_action>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_official_wording() {
        assert_eq!(base_branch_label("main"), "changes against 'main'");
        assert_eq!(
            commit_label("ccca5821234", Some("Fix it")),
            "commit ccca582: Fix it"
        );
        assert_eq!(commit_label("deadbeef", None), "commit deadbee");
    }

    #[test]
    fn a_cut_diff_says_how_to_read_the_rest() {
        let diff = BoundedDiff {
            text: "+a\n".into(),
            truncated: true,
        };
        let prompt = uncommitted_prompt("/r", &diff);
        assert!(prompt.starts_with(
            "Review the current code changes (staged, unstaged, and untracked files)"
        ));
        assert!(
            prompt.contains("<diff>\n+a\n</diff>\n[The diff was cut"),
            "{prompt}"
        );
        assert!(prompt.contains("`git diff HEAD`"));
    }
}
