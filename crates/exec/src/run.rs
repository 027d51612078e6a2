//! Running one command: spawn, capture, stream, time out, cancel, reap.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::buffer::HeadTailBuffer;
use crate::sandbox;
use crate::sys;
use crate::types::{ExecError, ExecOutput, ExecRequest, OutputChunk, OutputStream};

/// Exit code reported when the timeout fired (as coreutils `timeout` does).
const TIMEOUT_EXIT_CODE: i32 = 124;
/// After the main process exits, how long to wait for pipes held open by
/// background descendants before killing them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
const READ_CHUNK: usize = 8192;

/// Run `request` to completion.
///
/// Output chunks are sent to `events` (if given) as they are read; the
/// receiver must keep draining or the child eventually blocks on its pipe.
/// On timeout the process group is killed and `exit_code` is 124. When
/// `cancel` fires the process group is killed and reaped and
/// [`ExecError::Cancelled`] is returned. Leftover members of the process
/// group are killed once the command finishes.
pub async fn run(
    request: ExecRequest,
    events: Option<mpsc::Sender<OutputChunk>>,
    cancel: CancellationToken,
) -> Result<ExecOutput, ExecError> {
    let Some((program, args)) = request.argv.split_first() else {
        return Err(ExecError::EmptyCommand);
    };
    let prepared = sandbox::prepare(&request.sandbox, &request.cwd)?;
    if cancel.is_cancelled() {
        return Err(ExecError::Cancelled {
            partial: Box::new(empty_output()),
        });
    }

    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(&request.cwd)
        .env_clear()
        .envs(&request.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    sys::install_child_setup(&mut command, prepared.setup);
    let start = Instant::now();
    let spawned = command.spawn();
    // The child has its own copy of the Landlock fd (or failed); close ours.
    drop(prepared._ruleset);
    let mut child = spawned.map_err(|source| ExecError::Spawn {
        program: program.clone(),
        source,
    })?;
    let pgid = child.id().unwrap_or(0);
    tracing::debug!(pid = pgid, argv = ?request.argv, "spawned command");

    let (tx, mut rx) = mpsc::channel::<OutputChunk>(64);
    let mut readers = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(tokio::spawn(pump(
            out,
            OutputStream::Stdout,
            tx.clone(),
            events.clone(),
        )));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(tokio::spawn(pump(
            err,
            OutputStream::Stderr,
            tx.clone(),
            events.clone(),
        )));
    }
    drop(tx);

    let cap = request.output_cap_bytes;
    let mut capture = Capture {
        stdout: HeadTailBuffer::new(cap),
        stderr: HeadTailBuffer::new(cap),
        aggregated: HeadTailBuffer::new(cap),
    };
    let timeout = async {
        match request.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(timeout);
    // Armed only once the main process has exited.
    let drain_deadline = tokio::time::sleep(Duration::from_secs(86_400 * 365));
    tokio::pin!(drain_deadline);

    let mut status: Option<ExitStatus> = None;
    let mut readers_done = false;
    let mut timed_out = false;
    let mut cancelled = false;
    loop {
        tokio::select! {
            chunk = rx.recv(), if !readers_done => match chunk {
                Some(chunk) => capture.push(&chunk),
                None => {
                    readers_done = true;
                    if status.is_some() { break; }
                }
            },
            waited = child.wait(), if status.is_none() => {
                status = Some(waited?);
                if readers_done || cancelled { break; }
                drain_deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_TIMEOUT);
            },
            _ = &mut timeout, if !timed_out && status.is_none() => {
                timed_out = true;
                kill_group(pgid);
            },
            _ = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                kill_group(pgid);
                if status.is_some() { break; }
            },
            _ = &mut drain_deadline, if status.is_some() => {
                tracing::debug!(pid = pgid, "output pipes still open after exit; killing the process group");
                break;
            },
        }
    }
    // Background descendants must not outlive the command.
    kill_group(pgid);
    if !readers_done {
        // Pipes are closed now that the group is dead; collect what is left,
        // but never wait unboundedly for it.
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Some(chunk) = rx.recv().await {
                capture.push(&chunk);
            }
        })
        .await;
        for reader in &readers {
            reader.abort();
        }
    }

    let duration = start.elapsed();
    let exit_code = match (timed_out, status) {
        (true, _) => TIMEOUT_EXIT_CODE,
        (false, Some(status)) => exit_code_of(status),
        (false, None) => -1,
    };
    let output = ExecOutput {
        exit_code,
        stdout: capture.stdout.to_text(),
        stderr: capture.stderr.to_text(),
        aggregated_output: capture.aggregated.to_text(),
        duration,
        timed_out,
    };
    if cancelled {
        return Err(ExecError::Cancelled {
            partial: Box::new(output),
        });
    }
    Ok(output)
}

struct Capture {
    stdout: HeadTailBuffer,
    stderr: HeadTailBuffer,
    aggregated: HeadTailBuffer,
}

impl Capture {
    fn push(&mut self, chunk: &OutputChunk) {
        match chunk.stream {
            OutputStream::Stdout => self.stdout.push(&chunk.bytes),
            OutputStream::Stderr => self.stderr.push(&chunk.bytes),
        }
        self.aggregated.push(&chunk.bytes);
    }
}

/// Copy one pipe into the collector (and the caller's event stream).
async fn pump<R: AsyncRead + Unpin>(
    mut reader: R,
    stream: OutputStream,
    collector: mpsc::Sender<OutputChunk>,
    events: Option<mpsc::Sender<OutputChunk>>,
) {
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let chunk = OutputChunk {
                    stream,
                    bytes: buf[..n].to_vec(),
                };
                if let Some(events) = &events {
                    // A dropped receiver only means nobody is listening.
                    let _ = events.send(chunk.clone()).await;
                }
                if collector.send(chunk).await.is_err() {
                    break;
                }
            }
        }
    }
}

fn kill_group(pgid: u32) {
    if let Err(err) = sys::kill_process_group(pgid) {
        tracing::warn!(pgid, %err, "failed to kill process group");
    }
}

fn exit_code_of(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => -1,
    }
}

fn empty_output() -> ExecOutput {
    ExecOutput {
        exit_code: -1,
        stdout: String::new(),
        stderr: String::new(),
        aggregated_output: String::new(),
        duration: Duration::ZERO,
        timed_out: false,
    }
}
