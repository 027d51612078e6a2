//! Running one command to completion: spawn with stdin on `/dev/null`,
//! capture (capped), stream, time out, cancel.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::buffer::HeadTailBuffer;
use crate::process::Process;
use crate::spawn::{ProcessIo, ProcessSpec};
use crate::types::{ExecError, ExecOutput, ExecRequest, OutputChunk, OutputStream};

/// Exit code reported when the timeout fired (as coreutils `timeout` does).
pub(crate) const TIMEOUT_EXIT_CODE: i32 = 124;
/// Chunks in flight between the process and us.
const OUTPUT_QUEUE: usize = 64;

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
    if request.argv.is_empty() {
        return Err(ExecError::EmptyCommand);
    }
    if cancel.is_cancelled() {
        return Err(ExecError::Cancelled {
            partial: Box::new(empty_output()),
        });
    }
    let start = Instant::now();
    let (tx, mut rx) = mpsc::channel(OUTPUT_QUEUE);
    let process = Process::spawn(
        ProcessSpec {
            argv: request.argv,
            cwd: request.cwd,
            env: request.env,
            sandbox: request.sandbox,
            io: ProcessIo::Pipes { stdin: false },
        },
        tx,
    )?;

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
    let mut timed_out = false;
    let mut cancelled = false;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(chunk) => {
                    capture.push(&chunk);
                    if let Some(events) = &events {
                        // A dropped receiver only means nobody is listening.
                        let _ = events.send(chunk).await;
                    }
                }
                // All output is in; the exit code follows at once.
                None => break,
            },
            _ = &mut timeout, if !timed_out => {
                timed_out = true;
                process.kill();
            },
            _ = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                process.kill();
            },
        }
    }
    let status = process.wait().await;
    let output = ExecOutput {
        exit_code: if timed_out { TIMEOUT_EXIT_CODE } else { status },
        stdout: capture.stdout.to_text(),
        stderr: capture.stderr.to_text(),
        aggregated_output: capture.aggregated.to_text(),
        duration: start.elapsed(),
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
