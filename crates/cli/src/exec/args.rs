//! The grammar of `codex exec`, including everything `@openai/codex-sdk` 0.163 passes:
//! `exec --experimental-json [--config k=v]... [--model M] [--thread-source S] [--sandbox MODE]
//! [--cd DIR] [--add-dir DIR]... [--skip-git-repo-check] [--output-schema FILE] ...
//! [resume THREAD_ID] [--image FILE]...`. Options may appear before or after `resume`.
//! Values with a fixed set of spellings (sandbox, thread source, colour) are checked here, so a
//! typo is a usage error before any model request.

use crate::help;
use crate::usage::{string_value, UsageError};
use codex_protocol::v2::{SandboxMode, ThreadSource};
use lexopt::prelude::*;
use std::path::PathBuf;

/// Which earlier session `resume` continues.
#[derive(Clone, Debug, PartialEq)]
pub enum ResumeTarget {
    Id(String),
    /// The most recently updated session whose working directory is this one.
    Last,
}

/// When to colour human output on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Color {
    Always,
    Never,
    #[default]
    Auto,
}

/// A parsed `codex exec` command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExecArgs {
    pub json: bool,
    pub model: Option<String>,
    pub thread_source: Option<ThreadSource>,
    pub sandbox: Option<SandboxMode>,
    /// Commands run without a sandbox and approvals are never asked.
    pub bypass_sandbox: bool,
    pub cd: Option<PathBuf>,
    pub add_dirs: Vec<PathBuf>,
    pub skip_git_repo_check: bool,
    pub ephemeral: bool,
    pub images: Vec<PathBuf>,
    pub output_schema: Option<PathBuf>,
    pub output_last_message: Option<PathBuf>,
    pub color: Color,
    pub resume: Option<ResumeTarget>,
    /// The positional prompt; `None` (or `-`) means "read stdin".
    pub prompt: Option<String>,
}

/// Parses what follows `exec`; `Ok(None)` means `--help` was asked for. `-c` values are
/// appended to `overrides`, after the ones given before the subcommand.
pub fn parse(
    parser: &mut lexopt::Parser,
    overrides: &mut Vec<String>,
) -> Result<Option<ExecArgs>, UsageError> {
    let usage = help::EXEC_USAGE;
    let lex = |e| UsageError::from_lexopt(e, usage);
    let mut args = ExecArgs::default();
    let mut full_auto = false;
    let mut in_resume = false;
    let mut positionals: Vec<String> = Vec::new();
    while let Some(arg) = parser.next().map_err(lex)? {
        match arg {
            Short('c') | Long("config") => {
                overrides.push(string_value(parser.value(), "--config", usage)?)
            }
            Long("json") | Long("experimental-json") => args.json = true,
            Short('m') | Long("model") => {
                args.model = Some(string_value(parser.value(), "--model", usage)?)
            }
            Long("thread-source") => {
                let raw = string_value(parser.value(), "--thread-source", usage)?;
                args.thread_source = Some(enum_value(
                    "--thread-source",
                    &raw,
                    "user, subagent, memory_consolidation",
                )?);
            }
            Short('s') | Long("sandbox") => {
                let raw = string_value(parser.value(), "--sandbox", usage)?;
                args.sandbox = Some(enum_value(
                    "--sandbox",
                    &raw,
                    "read-only, workspace-write, danger-full-access",
                )?);
            }
            Long("full-auto") => full_auto = true,
            Long("dangerously-bypass-approvals-and-sandbox") | Long("yolo") => {
                args.bypass_sandbox = true
            }
            Short('C') | Long("cd") => args.cd = Some(parser.value().map_err(lex)?.into()),
            Long("add-dir") => args.add_dirs.push(parser.value().map_err(lex)?.into()),
            Long("skip-git-repo-check") => args.skip_git_repo_check = true,
            Long("ephemeral") => args.ephemeral = true,
            Short('i') | Long("image") => {
                // The official flag also takes comma-separated lists.
                let raw = string_value(parser.value(), "--image", usage)?;
                args.images
                    .extend(raw.split(',').filter(|p| !p.is_empty()).map(PathBuf::from));
            }
            Long("output-schema") => args.output_schema = Some(parser.value().map_err(lex)?.into()),
            Short('o') | Long("output-last-message") => {
                args.output_last_message = Some(parser.value().map_err(lex)?.into())
            }
            Long("color") => {
                let raw = string_value(parser.value(), "--color", usage)?;
                args.color = match raw.as_str() {
                    "always" => Color::Always,
                    "never" => Color::Never,
                    "auto" => Color::Auto,
                    _ => return Err(invalid_value("--color", &raw, "always, never, auto")),
                };
            }
            Long("last") if in_resume => args.resume = Some(ResumeTarget::Last),
            Short('h') | Long("help") => return Ok(None),
            Value(value) => {
                let value = value.into_string().map_err(|raw| {
                    UsageError::new(
                        format!("argument {} is not valid UTF-8", raw.to_string_lossy()),
                        usage,
                    )
                })?;
                let first = !in_resume && positionals.is_empty();
                if first && value == "resume" {
                    in_resume = true;
                } else if first && (value == "fork" || value == "review") {
                    // Commands of the official exec; as a prompt they would do something else.
                    return Err(UsageError::new(
                        format!("`codex exec {value}` is not supported by this runtime"),
                        usage,
                    ));
                } else {
                    positionals.push(value);
                }
            }
            other => return Err(lex(other.unexpected())),
        }
    }
    if full_auto && args.bypass_sandbox {
        return Err(UsageError::new(
            "--full-auto cannot be used with --dangerously-bypass-approvals-and-sandbox",
            usage,
        ));
    }
    if full_auto {
        if args
            .sandbox
            .is_some_and(|s| s != SandboxMode::WorkspaceWrite)
        {
            return Err(UsageError::new(
                "--full-auto cannot be used with another --sandbox mode",
                usage,
            ));
        }
        args.sandbox = Some(SandboxMode::WorkspaceWrite);
    }
    let mut positionals = positionals.into_iter();
    if in_resume && args.resume.is_none() {
        let id = positionals
            .next()
            .ok_or_else(|| UsageError::new("resume needs a SESSION_ID (or --last)", usage))?;
        args.resume = Some(ResumeTarget::Id(id));
    }
    args.prompt = positionals.next().filter(|p| p != "-");
    if let Some(extra) = positionals.next() {
        return Err(UsageError::new(
            format!("unexpected argument '{extra}' found (quote a prompt made of several words)"),
            usage,
        ));
    }
    Ok(Some(args))
}

fn invalid_value(option: &str, raw: &str, possible: &str) -> UsageError {
    UsageError::new(
        format!("invalid value '{raw}' for '{option}' [possible values: {possible}]"),
        help::EXEC_USAGE,
    )
}

/// A value spelled as the protocol's serde spelling of `T`.
fn enum_value<T: serde::de::DeserializeOwned>(
    option: &str,
    raw: &str,
    possible: &str,
) -> Result<T, UsageError> {
    serde_json::from_value(serde_json::Value::String(raw.to_string()))
        .map_err(|_| invalid_value(option, raw, possible))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn parse_exec(words: &[&str]) -> Result<(Option<ExecArgs>, Vec<String>), UsageError> {
        let mut parser = lexopt::Parser::from_args(words.iter().map(OsString::from));
        let mut overrides = Vec::new();
        let args = parse(&mut parser, &mut overrides)?;
        Ok((args, overrides))
    }

    fn args(words: &[&str]) -> ExecArgs {
        parse_exec(words).unwrap().0.unwrap()
    }

    #[test]
    fn the_typescript_sdk_command_line_parses_in_full() {
        let (parsed, overrides) = parse_exec(&[
            "--experimental-json",
            "--config",
            "openai_base_url=\"http://x\"",
            "--model",
            "m1",
            "--thread-source",
            "user",
            "--sandbox",
            "workspace-write",
            "--cd",
            "/w",
            "--add-dir",
            "/a",
            "--add-dir",
            "/b",
            "--skip-git-repo-check",
            "--output-schema",
            "/s.json",
            "--config",
            "model_reasoning_effort=\"high\"",
            "--config",
            "sandbox_workspace_write.network_access=true",
            "--config",
            "web_search=\"disabled\"",
            "--config",
            "approval_policy=\"never\"",
            "resume",
            "0199-abc",
            "--image",
            "/i1.png",
            "--image",
            "/i2.png",
        ])
        .unwrap();
        let parsed = parsed.unwrap();
        assert_eq!(
            parsed,
            ExecArgs {
                json: true,
                model: Some("m1".into()),
                thread_source: Some(ThreadSource::User),
                sandbox: Some(SandboxMode::WorkspaceWrite),
                cd: Some("/w".into()),
                add_dirs: vec!["/a".into(), "/b".into()],
                skip_git_repo_check: true,
                output_schema: Some("/s.json".into()),
                resume: Some(ResumeTarget::Id("0199-abc".into())),
                images: vec!["/i1.png".into(), "/i2.png".into()],
                ..ExecArgs::default()
            }
        );
        assert_eq!(
            overrides,
            [
                "openai_base_url=\"http://x\"",
                "model_reasoning_effort=\"high\"",
                "sandbox_workspace_write.network_access=true",
                "web_search=\"disabled\"",
                "approval_policy=\"never\""
            ]
        );
    }

    #[test]
    fn prompt_positional_resume_and_stdin_marker() {
        assert_eq!(args(&["say hi"]).prompt.as_deref(), Some("say hi"));
        assert_eq!(args(&["-"]).prompt, None);
        assert_eq!(args(&["--json"]).prompt, None);
        let resumed = args(&["resume", "--last", "go on"]);
        assert_eq!(resumed.resume, Some(ResumeTarget::Last));
        assert_eq!(resumed.prompt.as_deref(), Some("go on"));
        let resumed = args(&["resume", "id-1", "go on"]);
        assert_eq!(resumed.resume, Some(ResumeTarget::Id("id-1".into())));
        assert_eq!(resumed.prompt.as_deref(), Some("go on"));
        // "resume" is only a command in first position.
        assert_eq!(args(&["-m", "x", "resume", "id"]).prompt, None);
        assert_eq!(
            args(&["-i", "a.png,b.png"]).images,
            vec![PathBuf::from("a.png"), PathBuf::from("b.png")]
        );
    }

    #[test]
    fn shortcuts_set_the_sandbox() {
        assert_eq!(
            args(&["--full-auto"]).sandbox,
            Some(SandboxMode::WorkspaceWrite)
        );
        assert!(args(&["--dangerously-bypass-approvals-and-sandbox"]).bypass_sandbox);
        assert!(parse_exec(&["--full-auto", "--yolo"]).is_err());
        assert!(parse_exec(&["--full-auto", "-s", "read-only"]).is_err());
    }

    #[test]
    fn mistakes_are_usage_errors() {
        let e = parse_exec(&["--bogus"]).unwrap_err();
        assert_eq!(e.message, "unexpected argument '--bogus' found");
        let e = parse_exec(&["--sandbox", "wide-open"]).unwrap_err();
        assert!(e.message.contains("'wide-open'") && e.message.contains("read-only"));
        let e = parse_exec(&["--thread-source", "robot"]).unwrap_err();
        assert!(e.message.contains("robot"));
        let e = parse_exec(&["--model"]).unwrap_err();
        assert!(e.message.contains("--model"), "{e}");
        let e = parse_exec(&["resume"]).unwrap_err();
        assert!(e.message.contains("SESSION_ID"));
        let e = parse_exec(&["two", "words"]).unwrap_err();
        assert!(e.message.contains("'words'"));
        let e = parse_exec(&["--last"]).unwrap_err();
        assert!(e.message.contains("--last"));
        assert_eq!(parse_exec(&["-h"]).unwrap().0, None);
        let e = parse_exec(&["review"]).unwrap_err();
        assert!(e.message.contains("not supported"), "{e}");
        assert_eq!(
            args(&["resume", "id", "review"]).prompt.as_deref(),
            Some("review")
        );
    }
}
