//! Command-line parsing, by hand: the grammar is small and a parser crate would cost more build
//! time than it saves. `-c/--config key=value` may repeat and goes before the subcommand.

use anyhow::{bail, Context};
use std::path::PathBuf;

pub const USAGE: &str = "usage: codex [-c key=value]... <command>

commands:
  app-server [--listen stdio://]             serve the app-server protocol (v2) over stdio
  app-server generate-json-schema --out DIR  write the protocol's JSON Schema
  exec [--json] PROMPT                       run one prompt headlessly and print the answer
  --version                                  print the version";

pub struct Invocation {
    pub config_overrides: Vec<String>,
    pub command: Command,
}

pub enum Command {
    AppServer { listen: String },
    GenerateJsonSchema { out: PathBuf },
    Exec { prompt: String, json: bool },
    Version,
    Help,
}

pub fn parse(args: impl Iterator<Item = String>) -> anyhow::Result<Invocation> {
    let mut args = args.peekable();
    let mut config_overrides = Vec::new();
    while let Some(arg) = args.peek() {
        match arg.as_str() {
            "-c" | "--config" => {
                args.next();
                config_overrides.push(args.next().context("-c/--config needs key=value")?);
            }
            s if s.starts_with("--config=") => {
                config_overrides.push(s["--config=".len()..].to_string());
                args.next();
            }
            _ => break,
        }
    }
    let command = match args.next().as_deref() {
        None | Some("-h") | Some("--help") | Some("help") => Command::Help,
        Some("-V") | Some("--version") => Command::Version,
        Some("app-server") => parse_app_server(&mut args, &mut config_overrides)?,
        Some("exec") => parse_exec(&mut args, &mut config_overrides)?,
        Some(other) => bail!("unknown command {other:?}\n\n{USAGE}"),
    };
    Ok(Invocation {
        config_overrides,
        command,
    })
}

fn parse_app_server(
    args: &mut impl Iterator<Item = String>,
    overrides: &mut Vec<String>,
) -> anyhow::Result<Command> {
    let mut listen = "stdio://".to_string();
    let mut out = None;
    let mut generate = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().context("--listen needs a value")?,
            "generate-json-schema" => generate = true,
            "--out" | "-o" => out = Some(PathBuf::from(args.next().context("--out needs DIR")?)),
            "--experimental" => {}
            "-c" | "--config" => overrides.push(args.next().context("-c needs key=value")?),
            other => bail!("unknown app-server argument {other:?}\n\n{USAGE}"),
        }
    }
    if generate {
        let out = out.context("generate-json-schema needs --out DIR")?;
        return Ok(Command::GenerateJsonSchema { out });
    }
    Ok(Command::AppServer { listen })
}

fn parse_exec(
    args: &mut impl Iterator<Item = String>,
    overrides: &mut Vec<String>,
) -> anyhow::Result<Command> {
    let mut json = false;
    let mut prompt = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "-c" | "--config" => overrides.push(args.next().context("-c needs key=value")?),
            _ => prompt.push(arg),
        }
    }
    if prompt.is_empty() {
        bail!("exec needs a prompt\n\n{USAGE}");
    }
    Ok(Command::Exec {
        prompt: prompt.join(" "),
        json,
    })
}
