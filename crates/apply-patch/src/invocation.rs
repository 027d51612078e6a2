//! Recognising `apply_patch` invocations hidden in shell commands.
//!
//! Models sometimes run patches through the shell tool as
//! `apply_patch <<'EOF' … EOF` (optionally after `cd <dir> &&`). The turn
//! engine intercepts those and applies them natively. Only a script whose sole
//! statement is such an invocation qualifies; anything else (pipes, several
//! commands, text after the heredoc) is left to the shell.

use std::path::Path;

/// Detect an apply_patch invocation in an argv: either
/// `["apply_patch"|"applypatch", patch]` or `[bash|zsh|sh, "-c"|"-lc", script]`
/// where the script is a heredoc invocation. Returns the patch text and the
/// directory from a leading `cd <dir> &&`, if any.
pub fn extract_heredoc_patch(command: &[String]) -> Option<(String, Option<String>)> {
    match command {
        [program, body] if is_apply_patch_program(program) => Some((body.clone(), None)),
        [shell, flag, script] if is_shell(shell) && matches!(flag.as_str(), "-c" | "-lc") => {
            extract_heredoc_patch_from_script(script)
        }
        _ => None,
    }
}

/// Detect `[cd <dir> &&] apply_patch <<'DELIM'\n…\nDELIM` in a shell script
/// (the `cmd` string of `exec_command` / `shell_command`).
pub fn extract_heredoc_patch_from_script(script: &str) -> Option<(String, Option<String>)> {
    let mut rest = script.trim_start();
    let mut cd_dir = None;
    if let Some(after_cd) = rest.strip_prefix("cd") {
        if !after_cd.starts_with([' ', '\t']) {
            return None;
        }
        let (dir, after_dir) = take_word(after_cd.trim_start())?;
        rest = after_dir.trim_start().strip_prefix("&&")?.trim_start();
        cd_dir = Some(dir);
    }
    let program_end = rest
        .find(|c: char| c.is_whitespace() || c == '<')
        .unwrap_or(rest.len());
    if !is_apply_patch_program(&rest[..program_end]) {
        return None;
    }
    rest = rest[program_end..]
        .trim_start_matches([' ', '\t'])
        .strip_prefix("<<")?;
    let strip_tabs = rest.starts_with('-');
    if strip_tabs {
        rest = &rest[1..];
    }
    let (delimiter, after_delim) = take_word(rest.trim_start_matches([' ', '\t']))?;
    if delimiter.is_empty() {
        return None;
    }
    let (first_line_rest, body) = after_delim.split_once('\n')?;
    if !first_line_rest.trim().is_empty() {
        return None;
    }
    let mut patch_lines = Vec::new();
    let mut remaining = body;
    loop {
        let (line, next) = match remaining.split_once('\n') {
            Some((line, next)) => (line, next),
            None if remaining.is_empty() => return None,
            None => (remaining, ""),
        };
        let candidate = if strip_tabs {
            line.trim_start_matches('\t')
        } else {
            line
        };
        if candidate.trim_end() == delimiter {
            // Nothing but whitespace may follow the heredoc terminator.
            if !next.trim().is_empty() {
                return None;
            }
            break;
        }
        patch_lines.push(candidate);
        remaining = next;
        if remaining.is_empty() {
            return None;
        }
    }
    Some((patch_lines.join("\n"), cd_dir))
}

fn is_apply_patch_program(word: &str) -> bool {
    matches!(word, "apply_patch" | "applypatch")
}

fn is_shell(program: &str) -> bool {
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    matches!(name, "bash" | "zsh" | "sh")
}

/// Take one shell word: `'quoted'`, `"quoted"` (no escapes inside) or a bare
/// run of characters without whitespace or shell operators.
fn take_word(s: &str) -> Option<(String, &str)> {
    for quote in ['\'', '"'] {
        if let Some(inner) = s.strip_prefix(quote) {
            let end = inner.find(quote)?;
            return Some((inner[..end].to_string(), &inner[end + 1..]));
        }
    }
    let end = s
        .find(|c: char| {
            c.is_whitespace() || matches!(c, ';' | '&' | '|' | '<' | '>' | '(' | ')' | '`' | '$')
        })
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].to_string(), &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const PATCH: &str = "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch";

    #[test]
    fn direct_argv() {
        let got = extract_heredoc_patch(&argv(&["apply_patch", PATCH])).unwrap();
        assert_eq!(got, (PATCH.to_string(), None));
        assert!(extract_heredoc_patch(&argv(&["cat", PATCH])).is_none());
    }

    #[test]
    fn heredoc_in_bash_lc_with_various_delimiters() {
        for (open, close) in [("'PATCH'", "PATCH"), ("\"EOF\"", "EOF"), ("EOF", "EOF")] {
            let script = format!("apply_patch <<{open}\n{PATCH}\n{close}\n");
            let got = extract_heredoc_patch(&argv(&["bash", "-lc", &script])).unwrap();
            assert_eq!(got, (PATCH.to_string(), None), "{open}");
        }
        let script = format!("applypatch << 'X'\n{PATCH}\nX");
        assert_eq!(
            extract_heredoc_patch(&argv(&["/bin/sh", "-c", &script]))
                .unwrap()
                .0,
            PATCH
        );
    }

    #[test]
    fn cd_prefix_is_returned() {
        let script = format!("cd 'my dir' && apply_patch <<'EOF'\n{PATCH}\nEOF\n");
        let got = extract_heredoc_patch_from_script(&script).unwrap();
        assert_eq!(got, (PATCH.to_string(), Some("my dir".to_string())));
        let script = format!("cd sub && apply_patch <<EOF\n{PATCH}\nEOF");
        assert_eq!(
            extract_heredoc_patch_from_script(&script)
                .unwrap()
                .1
                .as_deref(),
            Some("sub")
        );
    }

    #[test]
    fn rejects_other_scripts() {
        for script in [
            format!("echo hi && apply_patch <<'EOF'\n{PATCH}\nEOF\n"),
            format!("apply_patch <<'EOF'\n{PATCH}\nEOF\necho done\n"),
            format!("apply_patch <<'EOF' | cat\n{PATCH}\nEOF\n"),
            format!("apply_patch <<'EOF'\n{PATCH}\n"),
            "apply_patchx <<EOF\nEOF\n".to_string(),
            "cd a b && apply_patch <<EOF\nx\nEOF\n".to_string(),
        ] {
            assert!(
                extract_heredoc_patch_from_script(&script).is_none(),
                "{script}"
            );
        }
        assert!(
            extract_heredoc_patch(&argv(&["python", "-c", "apply_patch <<EOF\nx\nEOF"])).is_none()
        );
    }
}
