//! Unified diffs for file changes (shown to clients and approval prompts).

use similar::TextDiff;

/// A unified diff of `old` → `new` with `--- a/<label>` / `+++ b/<label>`
/// headers and three lines of context. Empty when the texts are equal.
pub fn unified_diff(old: &str, new: &str, path_label: &str) -> String {
    if old == new {
        return String::new();
    }
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path_label}"), &format!("b/{path_label}"))
        .to_string()
}

/// Only the `@@` hunks (one line of context, no file headers): the form used
/// for the per-file `diff` of an update in file-change events.
pub fn hunks_only_diff(old: &str, new: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(1)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_has_headers_and_hunks() {
        let d = unified_diff("a\nb\n", "a\nc\n", "f.txt");
        assert_eq!(d, "--- a/f.txt\n+++ b/f.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n");
        assert_eq!(unified_diff("same\n", "same\n", "f"), "");
        assert_eq!(
            hunks_only_diff("a\nb\nc\nd\n", "a\nb\nX\nd\n"),
            "@@ -2,3 +2,3 @@\n b\n-c\n+X\n d\n"
        );
    }
}
