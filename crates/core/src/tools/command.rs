//! Everything about a shell command that does not involve running it: the argv and its display
//! string, the child environment, the sandbox policy, a small word splitter, the known-safe and
//! dangerous command lists, command actions and the sandbox-denial heuristic.

use codex_protocol::v2::{CommandAction, SandboxPolicy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The shell program to run scripts with: the `shell` parameter (looked up in `PATH` when it
/// is a bare name) or bash.
pub fn shell_program(shell: Option<&str>) -> String {
    let name = shell.filter(|s| !s.trim().is_empty()).unwrap_or("bash");
    if name.contains('/') {
        return name.to_string();
    }
    if name == "bash" && Path::new("/bin/bash").exists() {
        return "/bin/bash".to_string();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
        })
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| name.to_string())
}

/// `[shell, -lc|-c, script]`.
pub fn shell_argv(shell: Option<&str>, login: bool, script: &str) -> Vec<String> {
    vec![
        shell_program(shell),
        if login { "-lc" } else { "-c" }.to_string(),
        script.to_string(),
    ]
}

/// POSIX-shell quoting of one word (the `shlex.quote` rule).
pub fn quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r#"'"'"'"#))
    }
}

/// The argv as one display string, e.g. `/bin/bash -c 'echo hi'`.
pub fn join_argv(argv: &[String]) -> String {
    argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// The child's environment: ours minus anything that looks like a credential, plus settings
/// that keep tools non-interactive and their output plain.
pub fn child_env(network_disabled: bool) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| {
            let upper = k.to_ascii_uppercase();
            !["KEY", "SECRET", "TOKEN"].iter().any(|w| upper.contains(w))
        })
        .collect();
    for (k, v) in [
        ("NO_COLOR", "1"),
        ("TERM", "dumb"),
        ("PAGER", "cat"),
        ("GIT_PAGER", "cat"),
        ("GH_PAGER", "cat"),
        ("CODEX_CI", "1"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    if network_disabled {
        env.insert("CODEX_SANDBOX_NETWORK_DISABLED".into(), "1".into());
    }
    env
}

/// The protocol sandbox policy as the exec crate spells it. An external sandbox means someone
/// else confines the process, so we add none.
pub fn exec_policy(policy: &SandboxPolicy) -> codex_exec::SandboxPolicy {
    match policy {
        SandboxPolicy::DangerFullAccess | SandboxPolicy::ExternalSandbox { .. } => {
            codex_exec::SandboxPolicy::DangerFullAccess
        }
        SandboxPolicy::ReadOnly { network_access } => codex_exec::SandboxPolicy::ReadOnly {
            network_access: *network_access,
        },
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        } => codex_exec::SandboxPolicy::WorkspaceWrite {
            writable_roots: writable_roots.clone(),
            network_access: *network_access,
            exclude_tmpdir_env_var: *exclude_tmpdir_env_var,
            exclude_slash_tmp: *exclude_slash_tmp,
        },
    }
}

/// One token of a simple shell script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word(String),
    /// `&&`, `||`, `;` or `|`.
    Op(&'static str),
}

/// Splits a script made only of words, quotes and `&& || ; |` into tokens. Anything richer
/// (redirections, substitutions, subshells, variables, backgrounding, heredocs) gives `None`:
/// such scripts are never treated as known-safe.
pub fn tokenize(script: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let flush = |tokens: &mut Vec<Token>, word: &mut String, in_word: &mut bool| {
        if *in_word {
            tokens.push(Token::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => flush(&mut tokens, &mut word, &mut in_word),
            '\n' | ';' => {
                flush(&mut tokens, &mut word, &mut in_word);
                tokens.push(Token::Op(";"));
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => word.push(ch),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => word.push(chars.next()?),
                        ch => word.push(ch),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            '&' => {
                // A lone `&` (background job) is not simple.
                chars.next_if_eq(&'&')?;
                flush(&mut tokens, &mut word, &mut in_word);
                tokens.push(Token::Op("&&"));
            }
            '|' => {
                flush(&mut tokens, &mut word, &mut in_word);
                if chars.next_if_eq(&'|').is_some() {
                    tokens.push(Token::Op("||"));
                } else {
                    tokens.push(Token::Op("|"));
                }
            }
            '>' | '<' | '$' | '`' | '(' | ')' | '{' | '}' | '#' => return None,
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    flush(&mut tokens, &mut word, &mut in_word);
    Some(tokens)
}

/// The simple commands of a script (split on operators), or `None` if it is not simple.
pub fn simple_commands(script: &str) -> Option<Vec<Vec<String>>> {
    let mut commands = Vec::new();
    let mut current = Vec::new();
    for token in tokenize(script)? {
        match token {
            Token::Word(w) => current.push(w),
            Token::Op(_) => {
                if !current.is_empty() {
                    commands.push(std::mem::take(&mut current));
                }
            }
        }
    }
    if !current.is_empty() {
        commands.push(current);
    }
    (!commands.is_empty()).then_some(commands)
}

/// Whether every command of the script only reads (the list `untrusted` runs without asking).
pub fn is_known_safe(script: &str) -> bool {
    simple_commands(script).is_some_and(|cmds| cmds.iter().all(|c| is_safe_command(c)))
}

fn is_safe_command(words: &[String]) -> bool {
    let Some(program) = words.first() else {
        return false;
    };
    let args = &words[1..];
    let name = program.rsplit('/').next().unwrap_or(program);
    match name {
        "cat" | "ls" | "pwd" | "echo" | "head" | "tail" | "wc" | "grep" | "nl" | "true"
        | "false" | "which" | "whoami" | "uname" | "date" | "stat" | "file" | "tree" | "sort"
        | "uniq" | "cut" | "tr" | "diff" | "basename" | "dirname" | "realpath" | "readlink"
        | "id" | "printenv" | "du" | "df" | "seq" | "cmp" | "column" | "printf" => {
            // `sort -o` writes a file.
            !(name == "sort" && args.iter().any(|a| a == "-o" || a.starts_with("--output")))
        }
        "rg" => !args
            .iter()
            .any(|a| a.starts_with("--pre") || a == "--search-zip" || a == "-z"),
        "find" => !args.iter().any(|a| {
            matches!(
                a.as_str(),
                "-exec"
                    | "-execdir"
                    | "-ok"
                    | "-okdir"
                    | "-delete"
                    | "-fls"
                    | "-fprint"
                    | "-fprint0"
                    | "-fprintf"
            )
        }),
        "sed" => {
            // Only `sed -n <range>p [files]`.
            args.first().is_some_and(|a| a == "-n")
                && args.get(1).is_some_and(|expr| {
                    let body = expr.strip_suffix('p').unwrap_or("");
                    !body.is_empty()
                        && body
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == ',' || c == '$')
                })
        }
        "git" => match args.first().map(String::as_str) {
            Some("status" | "diff" | "log" | "show" | "rev-parse" | "ls-files" | "blame") => {
                !args.iter().any(|a| a.starts_with("--output") || a == "-o")
            }
            Some("branch") => args[1..].iter().all(|a| {
                matches!(
                    a.as_str(),
                    "--show-current" | "-a" | "-r" | "-v" | "-vv" | "--list"
                )
            }),
            _ => false,
        },
        _ => false,
    }
}

/// Commands that destroy data or escalate privileges; on-request asks before running them.
pub fn is_dangerous(script: &str) -> bool {
    let Some(cmds) = simple_commands(script) else {
        let s = script.replace("  ", " ");
        return s.contains("rm -rf") || s.contains("rm -fr") || s.contains("sudo ");
    };
    cmds.iter().any(|words| {
        let name = words[0].rsplit('/').next().unwrap_or(&words[0]);
        let args = &words[1..];
        match name {
            "sudo" | "mkfs" | "dd" | "shred" => true,
            "rm" => {
                args.iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('f'))
                    || args.iter().any(|a| a == "--force")
            }
            "git" => match args.first().map(String::as_str) {
                Some("reset") => args.iter().any(|a| a == "--hard"),
                Some("clean") => args
                    .iter()
                    .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('f')),
                Some("push") => args
                    .iter()
                    .any(|a| a == "--force" || a == "-f" || a.starts_with("--force-")),
                _ => false,
            },
            _ => false,
        }
    })
}

/// What the command does, for clients: reads, listings and searches of one simple command;
/// everything else is `unknown`.
pub fn command_actions(script: &str) -> Vec<CommandAction> {
    let unknown = vec![CommandAction::Unknown {
        command: script.to_string(),
    }];
    let Some(cmds) = simple_commands(script) else {
        return unknown;
    };
    let [words] = cmds.as_slice() else {
        return unknown;
    };
    let command = script.to_string();
    let operands: Vec<&String> = words[1..].iter().filter(|a| !a.starts_with('-')).collect();
    match words[0].as_str() {
        "cat" if operands.len() == 1 => {
            let path = PathBuf::from(operands[0]);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| operands[0].clone());
            vec![CommandAction::Read {
                command,
                name,
                path,
            }]
        }
        "ls" if operands.len() <= 1 => vec![CommandAction::ListFiles {
            command,
            path: operands.first().map(PathBuf::from),
        }],
        "rg" | "grep" if !operands.is_empty() && operands.len() <= 2 => {
            vec![CommandAction::Search {
                command,
                query: Some(operands[0].clone()),
                path: operands.get(1).map(PathBuf::from),
            }]
        }
        _ => unknown,
    }
}

/// The words of a single simple command (offered as an exec-policy amendment), if it is one.
pub fn amendment_words(script: &str) -> Option<Vec<String>> {
    let cmds = simple_commands(script)?;
    match <[Vec<String>; 1]>::try_from(cmds) {
        Ok([words]) => Some(words),
        Err(_) => None,
    }
}

/// Whether a failed sandboxed command looks like the sandbox stopped it.
pub fn looks_sandbox_denied(exit_code: i32, output: &str) -> bool {
    if exit_code == 0 {
        return false;
    }
    if exit_code == 128 + libc_sigsys() {
        return true;
    }
    let lower = output.to_ascii_lowercase();
    [
        "operation not permitted",
        "permission denied",
        "read-only file system",
        "seccomp",
        "sandbox",
        "landlock",
        "failed to write file",
    ]
    .iter()
    .any(|k| lower.contains(k))
}

/// SIGSYS on Linux (what a seccomp kill delivers).
const fn libc_sigsys() -> i32 {
    31
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_the_official_display() {
        let argv = vec![
            "/bin/bash".to_string(),
            "-c".to_string(),
            "echo hi > out.txt && cat out.txt".to_string(),
        ];
        assert_eq!(
            join_argv(&argv),
            "/bin/bash -c 'echo hi > out.txt && cat out.txt'"
        );
        assert_eq!(quote("it's"), r#"'it'"'"'s'"#);
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn safe_and_dangerous_lists() {
        assert!(is_known_safe("ls -la && cat README.md | head -n 5"));
        assert!(is_known_safe("git status"));
        assert!(is_known_safe("sed -n 1,20p file.rs"));
        assert!(!is_known_safe("touch approved.txt"));
        assert!(!is_known_safe("echo hi > out.txt"));
        assert!(!is_known_safe("cat $(which ls)"));
        assert!(!is_known_safe("find . -delete"));
        assert!(!is_known_safe("git branch -D main"));
        assert!(is_dangerous("rm -rf build"));
        assert!(is_dangerous("git reset --hard HEAD~1"));
        assert!(!is_dangerous("rm file.txt"));
        assert!(!is_dangerous("ls"));
    }

    #[test]
    fn tokenizer_handles_quotes() {
        assert_eq!(
            simple_commands("grep -n 'a b' \"c d\" && ls"),
            Some(vec![
                vec!["grep".into(), "-n".into(), "a b".into(), "c d".into()],
                vec!["ls".into()],
            ])
        );
        assert_eq!(
            amendment_words("touch approved.txt"),
            Some(vec!["touch".to_string(), "approved.txt".to_string()])
        );
        assert_eq!(amendment_words("a && b"), None);
    }

    #[test]
    fn actions_and_denials() {
        assert_eq!(
            command_actions("echo hi > out.txt"),
            vec![CommandAction::Unknown {
                command: "echo hi > out.txt".into()
            }]
        );
        assert!(matches!(
            command_actions("cat src/main.rs")[0],
            CommandAction::Read { ref name, .. } if name == "main.rs"
        ));
        assert!(looks_sandbox_denied(
            1,
            "touch: cannot touch 'x': Permission denied"
        ));
        assert!(!looks_sandbox_denied(1, "no such file"));
        assert!(!looks_sandbox_denied(0, "permission denied"));
    }

    #[test]
    fn env_drops_credentials() {
        std::env::set_var("CODEX_TEST_API_KEY_X", "s");
        let env = child_env(true);
        assert!(!env.contains_key("CODEX_TEST_API_KEY_X"));
        assert_eq!(env.get("TERM").map(String::as_str), Some("dumb"));
        assert_eq!(
            env.get("CODEX_SANDBOX_NETWORK_DISABLED")
                .map(String::as_str),
            Some("1")
        );
    }
}
