//! Model-facing formatting of command output.
//!
//! The model gets a truncated view (clients get full streams): the middle of
//! long output is cut, keeping the head and the tail on line boundaries, with
//! a marker saying how much was cut and a `Total output lines:` header.

use crate::types::ExecOutput;

/// Default budget for `exec_command` output, in tokens.
pub const DEFAULT_MAX_OUTPUT_TOKENS: usize = 10_000;

/// Budget for the model-visible text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncationPolicy {
    /// At most this many bytes; marker counts chars.
    Bytes(usize),
    /// At most about this many tokens (1 token ≈ 4 bytes); marker counts tokens.
    Tokens(usize),
}

impl TruncationPolicy {
    fn byte_budget(self) -> usize {
        match self {
            TruncationPolicy::Bytes(b) => b,
            TruncationPolicy::Tokens(t) => t.saturating_mul(4),
        }
    }
}

/// Approximate token count used for budgets: bytes / 4, rounded up.
pub fn approx_token_count(text: &str) -> usize {
    text.len().div_ceil(4)
}

/// Keep the head and tail of `text` within `policy`. When something is cut,
/// the result starts with `Total output lines: N\n\n` and the cut is marked
/// `…N tokens truncated…` (or `…N chars truncated…`).
pub fn truncate_middle(text: &str, policy: TruncationPolicy) -> String {
    let budget = policy.byte_budget();
    if text.len() <= budget {
        return text.to_string();
    }
    let total_lines = text.lines().count();
    let head_budget = budget / 2;
    let tail_budget = budget - head_budget;
    let mut head_end = floor_char_boundary(text, head_budget);
    // Prefer to cut after a newline so lines stay whole.
    if let Some(nl) = text[..head_end].rfind('\n') {
        head_end = nl + 1;
    }
    let mut tail_start = ceil_char_boundary(text, text.len() - tail_budget);
    if let Some(nl) = text[tail_start..].find('\n') {
        if tail_start + nl + 1 < text.len() {
            tail_start += nl + 1;
        }
    }
    let tail_start = tail_start.max(head_end);
    let removed = &text[head_end..tail_start];
    let marker = match policy {
        TruncationPolicy::Tokens(_) => {
            format!("…{} tokens truncated…", approx_token_count(removed))
        }
        TruncationPolicy::Bytes(_) => format!("…{} chars truncated…", removed.chars().count()),
    };
    let separator = if head_end > 0 && !text[..head_end].ends_with('\n') {
        "\n"
    } else {
        ""
    };
    format!(
        "Total output lines: {total_lines}\n\n{}{separator}{marker}\n{}",
        &text[..head_end],
        &text[tail_start..]
    )
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The `exec_command` tool result text:
///
/// ```text
/// Chunk ID: <id>
/// Wall time: 0.5012 seconds
/// Process exited with code 0
/// Original token count: 23
/// Output:
/// <aggregated output, truncated to max_output_tokens (default 10000)>
/// ```
pub fn format_exec_output_for_model(
    output: &ExecOutput,
    chunk_id: &str,
    max_output_tokens: Option<usize>,
) -> String {
    let tokens = max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    let text = &output.aggregated_output;
    format!(
        "Chunk ID: {chunk_id}\nWall time: {:.4} seconds\nProcess exited with code {}\nOriginal token count: {}\nOutput:\n{}",
        output.duration.as_secs_f64(),
        output.exit_code,
        approx_token_count(text),
        truncate_middle(text, TruncationPolicy::Tokens(tokens)),
    )
}

/// Whether a unified-exec process is still running after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnifiedExecStatus {
    /// Still running; the model continues it with `write_stdin`.
    Running {
        session_id: i32,
    },
    Exited {
        exit_code: i32,
    },
}

/// The `exec_command` / `write_stdin` result text, as the official runtime
/// writes it:
///
/// ```text
/// Chunk ID: 7f3a1c
/// Wall time: 0.5012 seconds
/// Process running with session ID 1000      (or: Process exited with code 0)
/// Original token count: 23
/// Output:
/// <output, truncated to max_output_tokens (default 10000)>
/// ```
pub fn format_unified_exec_output(
    chunk_id: &str,
    wall_time: std::time::Duration,
    status: UnifiedExecStatus,
    output: &str,
    max_output_tokens: Option<usize>,
) -> String {
    let tokens = max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
    let status = match status {
        UnifiedExecStatus::Running { session_id } => {
            format!("Process running with session ID {session_id}")
        }
        UnifiedExecStatus::Exited { exit_code } => format!("Process exited with code {exit_code}"),
    };
    format!(
        "Chunk ID: {chunk_id}\nWall time: {:.4} seconds\n{status}\nOriginal token count: {}\nOutput:\n{}",
        wall_time.as_secs_f64(),
        approx_token_count(output),
        truncate_middle(output, TruncationPolicy::Tokens(tokens)),
    )
}

/// A fresh chunk id: 6 random lowercase hex digits.
pub fn new_chunk_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS and differs per instance: enough
    // randomness for an id that only has to differ between calls.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:06x}", hasher.finish() & 0xff_ffff)
}

/// The freeform (`shell_command`) result text:
///
/// ```text
/// Exit code: 0
/// Wall time: 1.2 seconds
/// Output:
/// <aggregated output, truncated>
/// ```
///
/// A timed-out command's output is prefixed with
/// `command timed out after <ms> milliseconds`.
pub fn format_exec_output_freeform(output: &ExecOutput, policy: TruncationPolicy) -> String {
    let seconds = (output.duration.as_secs_f64() * 10.0).round() / 10.0;
    let mut body = String::new();
    if output.timed_out {
        body.push_str(&format!(
            "command timed out after {} milliseconds\n",
            output.duration.as_millis()
        ));
    }
    body.push_str(&output.aggregated_output);
    let truncated = truncate_middle(&body, policy);
    // `truncate_middle` puts its line count first; here it belongs in the header.
    let (lines_header, text) = match truncated.strip_prefix("Total output lines: ") {
        Some(rest) => match rest.split_once("\n\n") {
            Some((n, text)) => (format!("Total output lines: {n}\n"), text.to_string()),
            None => (String::new(), truncated.clone()),
        },
        None => (String::new(), truncated.clone()),
    };
    format!(
        "Exit code: {}\nWall time: {seconds} seconds\n{lines_header}Output:\n{text}",
        output.exit_code
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn output(text: &str, secs: f64, code: i32) -> ExecOutput {
        ExecOutput {
            exit_code: code,
            stdout: text.to_string(),
            stderr: String::new(),
            aggregated_output: text.to_string(),
            duration: Duration::from_secs_f64(secs),
            timed_out: false,
        }
    }

    #[test]
    fn exec_command_format_matches_transcript() {
        assert_eq!(
            format_exec_output_for_model(&output("hi\n", 0.0, 0), "48947f", None),
            "Chunk ID: 48947f\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 1\nOutput:\nhi\n"
        );
    }

    #[test]
    fn unified_exec_format_matches_the_official_text() {
        let wall = Duration::from_micros(500_123);
        assert_eq!(
            format_unified_exec_output(
                "48947f",
                Duration::ZERO,
                UnifiedExecStatus::Exited { exit_code: 0 },
                "hi\n",
                None
            ),
            "Chunk ID: 48947f\nWall time: 0.0000 seconds\nProcess exited with code 0\nOriginal token count: 1\nOutput:\nhi\n"
        );
        assert_eq!(
            format_unified_exec_output(
                "0a0b0c",
                wall,
                UnifiedExecStatus::Running { session_id: 1000 },
                ">>> ",
                None
            ),
            "Chunk ID: 0a0b0c\nWall time: 0.5001 seconds\nProcess running with session ID 1000\nOriginal token count: 1\nOutput:\n>>> "
        );
    }

    #[test]
    fn chunk_ids_are_six_hex_digits_and_differ() {
        let a = new_chunk_id();
        let b = new_chunk_id();
        for id in [&a, &b] {
            assert_eq!(id.len(), 6, "{id}");
            assert!(id
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        }
        assert_ne!(a, b);
    }

    #[test]
    fn freeform_format() {
        assert_eq!(
            format_exec_output_freeform(
                &output("Success.\n", 0.0, 0),
                TruncationPolicy::Bytes(10_000)
            ),
            "Exit code: 0\nWall time: 0 seconds\nOutput:\nSuccess.\n"
        );
        assert_eq!(
            format_exec_output_freeform(&output("x\n", 1.234, 2), TruncationPolicy::Bytes(10_000)),
            "Exit code: 2\nWall time: 1.2 seconds\nOutput:\nx\n"
        );
    }

    #[test]
    fn middle_truncation_keeps_head_and_tail_lines() {
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        let out = truncate_middle(&text, TruncationPolicy::Bytes(40));
        assert!(
            out.starts_with("Total output lines: 100\n\nline 1\nline 2\n"),
            "{out}"
        );
        assert!(out.ends_with("line 99\nline 100\n"), "{out}");
        assert!(out.contains("chars truncated…"), "{out}");
        let out = truncate_middle(&text, TruncationPolicy::Tokens(10));
        assert!(out.contains("tokens truncated…"), "{out}");
        assert_eq!(
            truncate_middle("short", TruncationPolicy::Tokens(10)),
            "short"
        );
        let formatted = format_exec_output_for_model(&output(&text, 0.5, 0), "c", Some(10));
        assert!(
            formatted.contains("Original token count: 198\nOutput:\nTotal output lines: 100\n\n"),
            "{formatted}"
        );
    }

    #[test]
    fn truncation_is_utf8_safe() {
        let text = "é".repeat(100);
        let out = truncate_middle(&text, TruncationPolicy::Bytes(11));
        assert!(out.contains('…'));
    }
}
