//! The `codex` binary: parses the command line and runs `app-server`,
//! `app-server generate-json-schema` or `exec`. Everything else lives in libraries.
//!
//! # Layout
//! - [`args`]: the grammar of `codex` and `codex app-server`; [`help`]: their help texts.
//! - [`exec`]: `codex exec`, including its own grammar.
//! - this file: configuration loading, logging, exit statuses.
//!
//! Exit statuses: 0 success; 1 a failure (a failed turn, a bad file, outside a Git repository);
//! 2 a usage error (`error: …` on stderr, before anything runs); 128 + N when stopped by
//! signal N during `exec`.

mod args;
mod exec;
mod help;
mod usage;

use anyhow::Context;
use args::{Command, UsageError};
use std::io::IsTerminal;
use std::process::ExitCode;

fn main() -> ExitCode {
    let invocation = match args::parse(std::env::args_os().skip(1)) {
        Ok(invocation) => invocation,
        Err(err) => return usage_error(&err),
    };
    init_logging();
    match run(invocation) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn usage_error(err: &UsageError) -> ExitCode {
    if err.usage == help::EXEC_USAGE {
        drain_piped_stdin(STDIN_DRAIN_LIMIT);
    }
    eprintln!(
        "error: {}\n\n{}\n\nFor more information, try '--help'.",
        err.message, err.usage
    );
    ExitCode::from(2)
}

/// How long a refused `exec` waits for a piped prompt to arrive before exiting anyway.
const STDIN_DRAIN_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Reads and discards piped stdin until EOF or `limit`. Clients such as the TypeScript SDK
/// write the prompt right after spawning exec; exiting before it arrives would fail their
/// write with a broken pipe instead of showing our error. A terminal is never waited for.
fn drain_piped_stdin(limit: std::time::Duration) {
    if std::io::stdin().is_terminal() {
        return;
    }
    let (done, finished) = std::sync::mpsc::channel();
    // A reader still blocked at `limit` is abandoned; process exit ends it.
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = done.send(());
    });
    let _ = finished.recv_timeout(limit);
}

fn run(invocation: args::Invocation) -> anyhow::Result<ExitCode> {
    let overrides = invocation.config_overrides;
    match invocation.command {
        Command::Version => {
            println!("codex-cli {}", codex_protocol::SERVER_VERSION);
            Ok(ExitCode::SUCCESS)
        }
        Command::Help(text) => {
            println!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Command::GenerateJsonSchema { out } => {
            codex_protocol::schema::write_all(&out)
                .with_context(|| format!("writing schema to {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::AppServer(listen) => {
            let config = load_config(&overrides)?;
            let runtime = async_runtime()?;
            if listen.listen == [codex_server::listen::Listen::Stdio] {
                runtime.block_on(codex_server::serve_stdio(config))?;
            } else {
                let options = codex_core::RuntimeOptions::from_process()?;
                runtime.block_on(codex_server::listen::serve_listeners(
                    config, options, listen,
                ))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Exec(args) => run_exec(*args, &overrides),
    }
}

fn run_exec(args: exec::args::ExecArgs, overrides: &[String]) -> anyhow::Result<ExitCode> {
    use exec::{prompt, request, workspace};
    // The prompt is read first, so a client writing it to our stdin is never cut off by an
    // early exit. Then everything that can be wrong with the command line's files fails here,
    // before the runtime starts and so before any model request.
    let stdin = std::io::stdin();
    let stdin_is_terminal = stdin.is_terminal();
    if args.prompt.is_none() && stdin_is_terminal {
        eprintln!("Reading prompt from stdin...");
    }
    let prompt = prompt::resolve(args.prompt.clone(), stdin.lock(), stdin_is_terminal)?;
    let cwd = match &args.cd {
        Some(dir) => workspace::existing_path(dir, "--cd")?,
        None => std::env::current_dir().context("reading the current directory")?,
    };
    if !args.skip_git_repo_check {
        workspace::require_git_repo(&cwd)?;
    }
    let config = load_config(overrides)?;
    let configured_approval = config
        .settings(&Default::default())?
        .approval_policy
        .is_some();
    let request = request::build(&args, &cwd, prompt, configured_approval)?;

    let stderr_is_terminal = std::io::stderr().is_terminal();
    let mode = exec::OutputMode {
        json: args.json,
        color: match args.color {
            exec::args::Color::Always => true,
            exec::args::Color::Never => false,
            exec::args::Color::Auto => stderr_is_terminal && std::env::var_os("NO_COLOR").is_none(),
        },
        stderr_is_terminal,
        output_last_message: args.output_last_message.clone(),
    };
    // The TypeScript SDK names itself through this variable; model requests carry it.
    let originator = std::env::var("CODEX_INTERNAL_ORIGINATOR_OVERRIDE")
        .ok()
        .filter(|o| !o.is_empty())
        .unwrap_or_else(|| "codex_exec".to_string());
    let outcome = async_runtime()?.block_on(async {
        let source = exec::source::EventSource::start(config, &originator).await?;
        exec::run(source, request, mode).await
    })?;
    Ok(match outcome {
        exec::ExecOutcome::Completed => ExitCode::SUCCESS,
        exec::ExecOutcome::Failed => ExitCode::from(1),
        exec::ExecOutcome::Stopped(signal) => ExitCode::from(128 + signal as u8),
    })
}

fn async_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Loads `$CODEX_HOME/config.toml` with the `-c` overrides. `openai_base_url` (in the file or
/// an override) sets the built-in `openai` provider's base URL, ahead of `OPENAI_BASE_URL`,
/// unless the configuration spells that provider's `base_url` out itself.
fn load_config(raw_overrides: &[String]) -> anyhow::Result<codex_core::config::Config> {
    let overrides = codex_core::config::parse_overrides(raw_overrides)?;
    let config = codex_core::config::Config::load(overrides)?;
    let explicit = config
        .raw
        .get("model_providers")
        .and_then(|p| p.get("openai"))
        .and_then(|p| p.get("base_url"))
        .is_some();
    let Some(url) = config.raw.get("openai_base_url").and_then(|v| v.as_str()) else {
        return Ok(config);
    };
    if explicit {
        return Ok(config);
    }
    let mut raw_overrides = raw_overrides.to_vec();
    raw_overrides.push(format!(
        "model_providers.openai.base_url={}",
        serde_json::Value::String(url.to_string())
    ));
    let overrides = codex_core::config::parse_overrides(&raw_overrides)?;
    Ok(codex_core::config::Config::load(overrides)?)
}

/// Logs go to stderr so stdout stays the protocol channel; `RUST_LOG` picks the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
