//! The `codex` binary: argument parsing, logging, and the subcommands
//! (`app-server`, `app-server generate-json-schema`, `exec`). Everything else lives in libraries.

mod args;

use anyhow::Context;
use args::Command;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("codex: {err:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run() -> anyhow::Result<std::process::ExitCode> {
    let invocation = args::parse(std::env::args().skip(1))?;
    init_logging();
    let overrides = invocation.config_overrides;
    match invocation.command {
        Command::Version => {
            println!("codex-cli {}", codex_protocol::SERVER_VERSION);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Help => {
            println!("{}", args::USAGE);
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::GenerateJsonSchema { out } => {
            codex_protocol::schema::write_all(&out)
                .with_context(|| format!("writing schema to {}", out.display()))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::AppServer { listen } => {
            if listen != "stdio://" {
                anyhow::bail!("unsupported --listen {listen:?}: only stdio:// is supported");
            }
            let config = load(&overrides)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(codex_server::serve_stdio(config))?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Exec { prompt, json } => {
            let config = load(&overrides)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let ok = runtime.block_on(codex_server::exec::run(config, prompt, json))?;
            Ok(if ok {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
    }
}

fn load(raw_overrides: &[String]) -> anyhow::Result<codex_core::config::Config> {
    let overrides = codex_core::config::parse_overrides(raw_overrides)?;
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
