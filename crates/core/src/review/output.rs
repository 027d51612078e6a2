//! The reviewer's answer as text for people and for the thread: JSON findings are rendered as
//! `<explanation>`, then `Review comment:` and one `- <title> — <path>:<start>-<end>` entry per
//! finding with its body indented. Anything else (plain prose, JSON that does not parse or
//! has another shape) is kept as the model wrote it.

use serde_json::Value;

/// What a review shows when the reviewer answered nothing at all.
const EMPTY_REVIEW: &str = "The reviewer returned no review.";
/// What a well-formed review without findings or explanation shows.
const NO_FINDINGS: &str = "The reviewer found no issues.";

/// The review text for the reviewer's final answer.
pub fn render_review(answer: &str) -> String {
    let answer = answer.trim();
    if answer.is_empty() {
        return EMPTY_REVIEW.to_string();
    }
    match parse_review(answer) {
        Some(review) => render_structured(&review),
        None => answer.to_string(),
    }
}

/// The review object in `answer`: the whole text, the inside of a Markdown fence, or the
/// outermost braces of text that wraps it in prose. `None` when none of those is a review.
fn parse_review(answer: &str) -> Option<Value> {
    let fenced = answer
        .strip_prefix("```json")
        .or_else(|| answer.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"));
    let braces = match (answer.find('{'), answer.rfind('}')) {
        (Some(start), Some(end)) if start < end => Some(&answer[start..=end]),
        _ => None,
    };
    [Some(answer), fenced, braces]
        .into_iter()
        .flatten()
        .filter_map(|candidate| serde_json::from_str::<Value>(candidate.trim()).ok())
        .find(is_review)
}

fn is_review(v: &Value) -> bool {
    v.is_object()
        && (v["findings"].is_array()
            || v["overall_explanation"].is_string()
            || v["overall_correctness"].is_string())
}

fn render_structured(review: &Value) -> String {
    let explanation = text(&review["overall_explanation"]);
    let findings: Vec<String> = review["findings"]
        .as_array()
        .map(|all| all.iter().filter_map(render_finding).collect())
        .unwrap_or_default();
    let mut out = explanation.to_string();
    if !findings.is_empty() {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(if findings.len() == 1 {
            "Review comment:"
        } else {
            "Full review comments:"
        });
        for finding in &findings {
            out.push_str("\n\n");
            out.push_str(finding);
        }
    }
    if out.is_empty() {
        out = match text(&review["overall_correctness"]) {
            "" => NO_FINDINGS.to_string(),
            verdict => format!("{NO_FINDINGS} Verdict: {verdict}."),
        };
    }
    out
}

/// `- <title> — <location>` and the body, each line indented by two spaces. A finding with
/// neither title nor body is dropped.
fn render_finding(finding: &Value) -> Option<String> {
    let title = text(&finding["title"]);
    let body = text(&finding["body"]);
    if title.is_empty() && body.is_empty() {
        return None;
    }
    let title = if title.is_empty() {
        "(untitled)"
    } else {
        title
    };
    let mut out = match location(&finding["code_location"]) {
        Some(at) => format!("- {title} — {at}"),
        None => format!("- {title}"),
    };
    for line in body.lines() {
        out.push('\n');
        if !line.is_empty() {
            out.push_str("  ");
            out.push_str(line);
        }
    }
    Some(out)
}

/// `<path>:<start>-<end>`, or the path alone when the range is missing or malformed.
fn location(at: &Value) -> Option<String> {
    let path = text(&at["absolute_file_path"]);
    if path.is_empty() {
        return None;
    }
    let range = &at["line_range"];
    match (line_number(&range["start"]), line_number(&range["end"])) {
        (Some(start), Some(end)) => Some(format!("{path}:{start}-{}", end.max(start))),
        (Some(start), None) => Some(format!("{path}:{start}-{start}")),
        _ => Some(path.to_string()),
    }
}

/// A line number given as a number or a numeric string.
fn line_number(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn text(v: &Value) -> &str {
    v.as_str().map(str::trim).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(title: &str, body: &str, path: &str, start: u64, end: u64) -> Value {
        json!({"title": title, "body": body, "confidence_score": 0.8, "priority": 1,
               "code_location": {"absolute_file_path": path, "line_range": {"start": start, "end": end}}})
    }

    #[test]
    fn one_finding_renders_as_a_review_comment() {
        let answer = json!({
            "findings": [finding("[P1] Bad thing", "It breaks.\nSecond line.", "/r/a.txt", 2, 3)],
            "overall_correctness": "patch is incorrect",
            "overall_explanation": "One problem found.",
            "overall_confidence_score": 0.7
        });
        assert_eq!(
            render_review(&answer.to_string()),
            "One problem found.\n\nReview comment:\n\n- [P1] Bad thing — /r/a.txt:2-3\n  It breaks.\n  Second line."
        );
    }

    #[test]
    fn several_findings_are_listed_in_order() {
        let answer = json!({
            "findings": [finding("A", "a", "/x", 1, 1), finding("B", "b", "/y", 4, 9)],
            "overall_explanation": "Two."
        });
        assert_eq!(
            render_review(&answer.to_string()),
            "Two.\n\nFull review comments:\n\n- A — /x:1-1\n  a\n\n- B — /y:4-9\n  b"
        );
    }

    #[test]
    fn fenced_or_wrapped_json_is_still_a_review() {
        let json = json!({"findings": [], "overall_explanation": "Looks fine."}).to_string();
        assert_eq!(
            render_review(&format!("```json\n{json}\n```")),
            "Looks fine."
        );
        assert_eq!(
            render_review(&format!("Here is my review: {json} Thanks")),
            "Looks fine."
        );
    }

    #[test]
    fn plain_text_and_malformed_json_are_kept_as_written() {
        assert_eq!(render_review("  plain text review \n"), "plain text review");
        let broken = r#"{"findings": [{"title": "x""#;
        assert_eq!(render_review(broken), broken);
        // JSON, but not a review.
        assert_eq!(render_review(r#"{"answer": 42}"#), r#"{"answer": 42}"#);
        assert_eq!(render_review("   "), EMPTY_REVIEW);
    }

    #[test]
    fn odd_findings_degrade_gracefully() {
        let answer = json!({
            "findings": [
                {"title": "No location", "body": "b"},
                {"title": "String lines", "body": "", "code_location": {"absolute_file_path": "/p", "line_range": {"start": "7", "end": "5"}}},
                {"title": "", "body": ""},
                "not an object"
            ],
            "overall_correctness": "patch is incorrect"
        });
        assert_eq!(
            render_review(&answer.to_string()),
            "Full review comments:\n\n- No location\n  b\n\n- String lines — /p:7-7"
        );
        let empty = json!({"findings": [], "overall_correctness": "patch is correct"});
        assert_eq!(
            render_review(&empty.to_string()),
            "The reviewer found no issues. Verdict: patch is correct."
        );
    }
}
