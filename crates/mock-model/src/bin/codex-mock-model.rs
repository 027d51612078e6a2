//! `codex-mock-model`: runs the scripted mock Responses API as a process for demos and benchmarks.
//!
//! Usage: `codex-mock-model [--port N] [--script FILE.json] [--default-message TEXT] [--deltas N]`.
//! Prints `listening http://127.0.0.1:PORT/v1` and serves until killed, or until stdin reaches EOF
//! when stdin is a pipe or socket (so a parent that dies takes the mock with it).

use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::process::ExitCode;

use codex_mock_model::{MockServer, ReplySpec};
use tokio::io::AsyncReadExt;

struct Args {
    port: u16,
    script: Option<String>,
    default_message: Option<String>,
    deltas: Option<usize>,
}

const USAGE: &str =
    "usage: codex-mock-model [--port N] [--script FILE.json] [--default-message TEXT] [--deltas N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 0,
        script: None,
        default_message: None,
        deltas: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--script" => args.script = Some(value()?),
            "--default-message" => args.default_message = Some(value()?),
            "--deltas" => {
                args.deltas = Some(value()?.parse().map_err(|e| format!("--deltas: {e}"))?)
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

fn stdin_is_pipe_or_socket() -> bool {
    std::fs::metadata("/proc/self/fd/0")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

async fn run(args: Args) -> Result<(), String> {
    let server = MockServer::start_on(args.port)
        .await
        .map_err(|e| format!("cannot listen on port {}: {e}", args.port))?;
    if let Some(path) = &args.script {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let specs: Vec<ReplySpec> =
            serde_json::from_str(&text).map_err(|e| format!("invalid script {path}: {e}"))?;
        for spec in specs {
            server.enqueue_spec(spec);
        }
    }
    if args.default_message.is_some() || args.deltas.is_some() {
        let text = args
            .default_message
            .unwrap_or_else(|| "Hello from the mock model.".to_string());
        // Fixed response id so the default costs nothing per request (benchmarks).
        let spec = ReplySpec::Message {
            response_id: Some("resp_default".to_string()),
            text: Some(text),
            deltas: None,
            chunks: Some(args.deltas.unwrap_or(3)),
        };
        server.set_default(Some(spec.into_reply(String::new, &server.gate())));
    }
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening {}", server.url()).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    if stdin_is_pipe_or_socket() {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 256];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
        }
    }
    std::future::pending::<()>().await;
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("codex-mock-model: cannot start runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("codex-mock-model: {msg}");
            ExitCode::FAILURE
        }
    }
}
