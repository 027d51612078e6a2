//! Command-line grammar of `codex` and `codex app-server`, parsed with lexopt (one small crate,
//! no proc macros: the cheapest parser that still handles `--flag=value`, `-cK=V` and `--`).
//! `codex exec` has its own grammar in [`crate::exec::args`]. Every mistake is a
//! [`UsageError`], which `main` prints as `error: …` with the command's usage line and exit 2.

use crate::exec::args::ExecArgs;
use crate::help;
pub use crate::usage::{string_value, UsageError};
use codex_server::listen::{Listen, ListenOptions};
use lexopt::prelude::*;
use std::ffi::OsString;
use std::path::PathBuf;

/// What the user asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Print this help text on stdout and succeed.
    Help(&'static str),
    Version,
    AppServer(ListenOptions),
    GenerateJsonSchema {
        out: PathBuf,
    },
    Exec(Box<ExecArgs>),
}

/// A parsed command line: `-c key=value` overrides (from before and after the subcommand, in
/// order) and the command.
#[derive(Debug, PartialEq)]
pub struct Invocation {
    pub config_overrides: Vec<String>,
    pub command: Command,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let usage = help::CODEX_USAGE;
    let mut parser = lexopt::Parser::from_args(args);
    let mut config_overrides = Vec::new();
    let lex = |e| UsageError::from_lexopt(e, usage);
    while let Some(arg) = parser.next().map_err(lex)? {
        match arg {
            Short('c') | Long("config") => {
                config_overrides.push(string_value(parser.value(), "--config", usage)?)
            }
            Short('h') | Long("help") => return Ok(help_only(config_overrides, help::CODEX)),
            Short('V') | Long("version") => {
                return Ok(Invocation {
                    config_overrides,
                    command: Command::Version,
                })
            }
            Value(name) => {
                let command = match name.to_str() {
                    Some("exec") | Some("e") => {
                        let args = crate::exec::args::parse(&mut parser, &mut config_overrides)?;
                        match args {
                            Some(args) => Command::Exec(Box::new(args)),
                            None => Command::Help(help::EXEC),
                        }
                    }
                    Some("app-server") => parse_app_server(&mut parser, &mut config_overrides)?,
                    Some("help") => Command::Help(help_topic(&mut parser)?),
                    _ => {
                        return Err(UsageError::new(
                            format!("unrecognized subcommand '{}'", name.to_string_lossy()),
                            usage,
                        ))
                    }
                };
                return Ok(Invocation {
                    config_overrides,
                    command,
                });
            }
            other => return Err(lex(other.unexpected())),
        }
    }
    Err(UsageError::new("a command is required", usage))
}

fn help_only(config_overrides: Vec<String>, text: &'static str) -> Invocation {
    Invocation {
        config_overrides,
        command: Command::Help(text),
    }
}

/// `codex help [COMMAND [SUBCOMMAND]]`.
fn help_topic(parser: &mut lexopt::Parser) -> Result<&'static str, UsageError> {
    let usage = help::CODEX_USAGE;
    let mut words = Vec::new();
    while let Some(arg) = parser
        .next()
        .map_err(|e| UsageError::from_lexopt(e, usage))?
    {
        match arg {
            Value(word) => words.push(word.to_string_lossy().into_owned()),
            other => return Err(UsageError::from_lexopt(other.unexpected(), usage)),
        }
    }
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] => Ok(help::CODEX),
        ["exec"] | ["e"] => Ok(help::EXEC),
        ["app-server"] => Ok(help::APP_SERVER),
        ["app-server", "generate-json-schema"] => Ok(help::GENERATE_JSON_SCHEMA),
        other => Err(UsageError::new(
            format!("no help for '{}'", other.join(" ")),
            usage,
        )),
    }
}

/// `codex app-server [--listen URL]... [--ws-token-file PATH] [--allow-non-loopback]
/// [generate-json-schema --out DIR]`.
fn parse_app_server(
    parser: &mut lexopt::Parser,
    overrides: &mut Vec<String>,
) -> Result<Command, UsageError> {
    let usage = help::APP_SERVER_USAGE;
    let mut urls: Vec<String> = Vec::new();
    let mut ws_token_file = None;
    let mut allow_non_loopback = false;
    while let Some(arg) = parser
        .next()
        .map_err(|e| UsageError::from_lexopt(e, usage))?
    {
        match arg {
            Short('c') | Long("config") => {
                overrides.push(string_value(parser.value(), "--config", usage)?)
            }
            Long("listen") => urls.push(string_value(parser.value(), "--listen", usage)?),
            Long("ws-token-file") => {
                ws_token_file = Some(PathBuf::from(
                    parser
                        .value()
                        .map_err(|e| UsageError::from_lexopt(e, usage))?,
                ))
            }
            Long("allow-non-loopback") => allow_non_loopback = true,
            Short('h') | Long("help") => return Ok(Command::Help(help::APP_SERVER)),
            Value(sub) if sub == "generate-json-schema" => {
                return parse_generate_json_schema(parser, overrides)
            }
            Value(sub) => {
                return Err(UsageError::new(
                    format!("unrecognized subcommand '{}'", sub.to_string_lossy()),
                    usage,
                ))
            }
            other => return Err(UsageError::from_lexopt(other.unexpected(), usage)),
        }
    }
    if urls.is_empty() {
        urls.push("stdio://".to_string());
    }
    let mut listen = Vec::with_capacity(urls.len());
    for url in &urls {
        let parsed = Listen::parse(url, allow_non_loopback)
            .map_err(|e| UsageError::new(e.to_string(), usage))?;
        if listen.contains(&parsed) {
            return Err(UsageError::new(
                format!("--listen {url} given twice"),
                usage,
            ));
        }
        listen.push(parsed);
    }
    Ok(Command::AppServer(ListenOptions {
        listen,
        ws_token_file,
    }))
}

/// `codex app-server generate-json-schema --out DIR`.
fn parse_generate_json_schema(
    parser: &mut lexopt::Parser,
    overrides: &mut Vec<String>,
) -> Result<Command, UsageError> {
    let usage = help::GENERATE_JSON_SCHEMA_USAGE;
    let mut out = None;
    while let Some(arg) = parser
        .next()
        .map_err(|e| UsageError::from_lexopt(e, usage))?
    {
        match arg {
            Short('c') | Long("config") => {
                overrides.push(string_value(parser.value(), "--config", usage)?)
            }
            Short('o') | Long("out") => {
                out = Some(PathBuf::from(
                    parser
                        .value()
                        .map_err(|e| UsageError::from_lexopt(e, usage))?,
                ))
            }
            // The official flag adds methods and fields marked experimental. This runtime
            // implements none, so the flag could only be ignored; say so instead.
            Long("experimental") => {
                return Err(UsageError::new(
                    "--experimental is not supported: this runtime has no experimental \
                     protocol surface, so the schema is always the stable one",
                    usage,
                ))
            }
            Short('h') | Long("help") => return Ok(Command::Help(help::GENERATE_JSON_SCHEMA)),
            other => return Err(UsageError::from_lexopt(other.unexpected(), usage)),
        }
    }
    let out = out.ok_or_else(|| {
        UsageError::new(
            "the following required arguments were not provided: --out <DIR>",
            usage,
        )
    })?;
    Ok(Command::GenerateJsonSchema { out })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(words: &[&str]) -> Result<Invocation, UsageError> {
        parse(words.iter().map(OsString::from))
    }

    #[test]
    fn config_overrides_are_collected_before_and_after_the_subcommand() {
        let inv = parse_words(&["-c", "a=1", "--config=b=2", "app-server", "-c", "c=3"]).unwrap();
        assert_eq!(inv.config_overrides, ["a=1", "b=2", "c=3"]);
        assert_eq!(
            inv.command,
            Command::AppServer(ListenOptions {
                listen: vec![Listen::Stdio],
                ws_token_file: None,
            })
        );
    }

    #[test]
    fn listen_repeats_and_takes_the_ws_flags() {
        let inv = parse_words(&[
            "app-server",
            "--listen",
            "stdio://",
            "--listen=unix:///tmp/a.sock",
            "--listen",
            "ws://10.0.0.1:4222",
            "--allow-non-loopback",
            "--ws-token-file",
            "/tmp/tok",
        ])
        .unwrap();
        assert_eq!(
            inv.command,
            Command::AppServer(ListenOptions {
                listen: vec![
                    Listen::Stdio,
                    Listen::Unix(Some("/tmp/a.sock".into())),
                    Listen::Ws("10.0.0.1:4222".parse().unwrap()),
                ],
                ws_token_file: Some("/tmp/tok".into()),
            })
        );
        let e = parse_words(&["app-server", "--listen", "stdio://", "--listen", "stdio://"])
            .unwrap_err();
        assert!(e.message.contains("twice"), "{e}");
    }

    #[test]
    fn help_and_version_at_every_level() {
        assert_eq!(
            parse_words(&["--help"]).unwrap().command,
            Command::Help(help::CODEX)
        );
        assert_eq!(parse_words(&["-V"]).unwrap().command, Command::Version);
        assert_eq!(
            parse_words(&["app-server", "-h"]).unwrap().command,
            Command::Help(help::APP_SERVER)
        );
        assert_eq!(
            parse_words(&["app-server", "generate-json-schema", "--help"])
                .unwrap()
                .command,
            Command::Help(help::GENERATE_JSON_SCHEMA)
        );
        assert_eq!(
            parse_words(&["exec", "--help"]).unwrap().command,
            Command::Help(help::EXEC)
        );
        assert_eq!(
            parse_words(&["help", "exec"]).unwrap().command,
            Command::Help(help::EXEC)
        );
    }

    #[test]
    fn generate_json_schema_needs_out_and_rejects_experimental() {
        assert_eq!(
            parse_words(&["app-server", "generate-json-schema", "--out", "dir"])
                .unwrap()
                .command,
            Command::GenerateJsonSchema { out: "dir".into() }
        );
        let missing = parse_words(&["app-server", "generate-json-schema"]).unwrap_err();
        assert!(missing.message.contains("--out"), "{missing}");
        let experimental = parse_words(&[
            "app-server",
            "generate-json-schema",
            "--experimental",
            "--out",
            "d",
        ])
        .unwrap_err();
        assert!(experimental.message.contains("--experimental"));
    }

    #[test]
    fn mistakes_are_usage_errors_that_name_the_culprit() {
        let e = parse_words(&["--bogus"]).unwrap_err();
        assert_eq!(e.message, "unexpected argument '--bogus' found");
        let e = parse_words(&["frobnicate"]).unwrap_err();
        assert_eq!(e.message, "unrecognized subcommand 'frobnicate'");
        let e = parse_words(&[]).unwrap_err();
        assert_eq!(e.message, "a command is required");
        let e = parse_words(&["app-server", "--listen", "tcp://x"]).unwrap_err();
        assert!(e.message.contains("stdio://"), "{e}");
        let e = parse_words(&["app-server", "--listen", "ws://0.0.0.0:1"]).unwrap_err();
        assert!(e.message.contains("--allow-non-loopback"), "{e}");
        let e = parse_words(&["-c"]).unwrap_err();
        assert!(e.message.contains("'-c'"), "{e}");
    }
}
