//! An interactive session: a [`Process`] that outlives the call that started
//! it, with its output buffered between reads.
//!
//! A collector task moves every chunk into two capped head-and-tail buffers:
//! `pending` (what no read has returned yet) and `transcript` (everything, for
//! the item's `aggregatedOutput`). Memory per session is therefore bounded by
//! [`SessionLimits`] plus the bounded output channel, however much the command
//! prints and however rarely anyone reads. Each chunk is also forwarded to an
//! optional event channel (the client's `outputDelta` stream).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::buffer::HeadTailBuffer;
use crate::process::{wait_exit, Process};
use crate::spawn::ProcessSpec;
use crate::types::{ControlError, ExecError, OutputChunk, TerminalSize};

/// Chunks in flight between the process and the collector.
const OUTPUT_QUEUE: usize = 64;

/// Memory caps of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Output not yet returned by a read; beyond this the middle is dropped
    /// (head and tail kept, with a marker) and the read says so.
    pub pending_bytes: usize,
    /// Everything the session printed, for the final `aggregatedOutput`.
    pub transcript_bytes: usize,
}

impl Default for SessionLimits {
    /// 1 MiB each, as the official runtime's session buffer.
    fn default() -> Self {
        SessionLimits {
            pending_bytes: 1024 * 1024,
            transcript_bytes: 1024 * 1024,
        }
    }
}

/// What one read returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRead {
    /// Output no earlier read returned. While the process runs, a UTF-8
    /// sequence split by the read boundary is held back for the next read.
    pub output: Vec<u8>,
    /// Set once the process has exited and all its output is in `output`
    /// (of this or earlier reads).
    pub exit_code: Option<i32>,
    /// Some output since the previous read was dropped to respect
    /// [`SessionLimits::pending_bytes`].
    pub cap_reached: bool,
    /// How long the read waited.
    pub wall_time: Duration,
}

/// The whole output of a session, capped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    pub text: String,
    /// The middle was dropped to respect [`SessionLimits::transcript_bytes`].
    pub cap_reached: bool,
}

struct Buffers {
    pending: HeadTailBuffer,
    transcript: HeadTailBuffer,
}

/// A running (or finished) interactive command. Dropping it kills the
/// process group.
pub struct Session {
    process: Process,
    buffers: Arc<Mutex<Buffers>>,
    /// Set by the collector after the last chunk was buffered.
    finished: watch::Receiver<Option<i32>>,
    started: Instant,
}

impl Session {
    /// Start `spec`. Chunks are also sent to `events`, if given, in read
    /// order; a slow receiver slows the command (the channel is bounded), a
    /// dropped one is ignored.
    ///
    /// # Errors
    /// As [`Process::spawn`].
    pub fn start(
        spec: ProcessSpec,
        limits: SessionLimits,
        events: Option<mpsc::Sender<OutputChunk>>,
    ) -> Result<Session, ExecError> {
        let (tx, rx) = mpsc::channel(OUTPUT_QUEUE);
        let started = Instant::now();
        let process = Process::spawn(spec, tx)?;
        let buffers = Arc::new(Mutex::new(Buffers {
            pending: HeadTailBuffer::new(limits.pending_bytes),
            transcript: HeadTailBuffer::new(limits.transcript_bytes),
        }));
        let (finished_tx, finished) = watch::channel(None);
        tokio::spawn(collect(
            rx,
            buffers.clone(),
            events,
            process.exit_watch(),
            finished_tx,
        ));
        Ok(Session {
            process,
            buffers,
            finished,
            started,
        })
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Whether the session runs on a pseudo-terminal.
    pub fn is_tty(&self) -> bool {
        self.process.is_tty()
    }

    /// When the session was started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Write input (see [`Process::write_stdin`]).
    ///
    /// # Errors
    /// As [`Process::write_stdin`].
    pub async fn write(&self, bytes: &[u8]) -> Result<(), ControlError> {
        self.process.write_stdin(bytes).await
    }

    /// End input (see [`Process::close_stdin`]).
    ///
    /// # Errors
    /// As [`Process::close_stdin`].
    pub async fn close_stdin(&self) -> Result<(), ControlError> {
        self.process.close_stdin().await
    }

    /// Resize the terminal; returns once the new size is in effect.
    ///
    /// # Errors
    /// As [`Process::resize`].
    pub fn resize(&self, size: TerminalSize) -> Result<(), ControlError> {
        self.process.resize(size)
    }

    /// SIGKILL the whole process group.
    pub fn kill(&self) {
        self.process.kill();
    }

    /// Wait until the process exits or `yield_time` passes, whichever comes
    /// first, then return the output no earlier read returned.
    ///
    /// # Cancellation
    /// Cancel-safe: output not returned stays pending.
    pub async fn read(&self, yield_time: Duration) -> SessionRead {
        let start = Instant::now();
        let mut finished = self.finished.clone();
        let exit_code =
            match tokio::time::timeout(yield_time, finished.wait_for(Option::is_some)).await {
                Ok(Ok(code)) => *code,
                _ => None,
            };
        let (output, cap_reached) = match self.buffers.lock() {
            Ok(mut buffers) => {
                let (mut output, cap_reached) = buffers.pending.take();
                if exit_code.is_none() {
                    let keep = incomplete_utf8_suffix(&output);
                    let split = output.len() - keep;
                    buffers
                        .pending
                        .push(output.get(split..).unwrap_or_default());
                    output.truncate(split);
                }
                (output, cap_reached)
            }
            Err(_) => (Vec::new(), false),
        };
        SessionRead {
            output,
            exit_code,
            cap_reached,
            wall_time: start.elapsed(),
        }
    }

    /// The exit code, once the process has exited and all its output is
    /// buffered.
    pub fn exit_code(&self) -> Option<i32> {
        *self.finished.borrow()
    }

    /// Wait for [`Self::exit_code`].
    ///
    /// # Cancellation
    /// Cancel-safe; the process keeps running.
    pub async fn wait(&self) -> i32 {
        wait_exit(self.finished.clone()).await
    }

    /// Everything the session printed so far (capped, head and tail kept).
    pub fn transcript(&self) -> Transcript {
        match self.buffers.lock() {
            Ok(buffers) => Transcript {
                text: buffers.transcript.to_text(),
                cap_reached: buffers.transcript.omitted() > 0,
            },
            Err(_) => Transcript {
                text: String::new(),
                cap_reached: false,
            },
        }
    }

    /// Output bytes the command has printed so far.
    pub fn total_output_bytes(&self) -> u64 {
        match self.buffers.lock() {
            Ok(buffers) => buffers.transcript.total(),
            Err(_) => 0,
        }
    }

    /// Output bytes this session holds in memory right now.
    pub fn buffered_bytes(&self) -> usize {
        match self.buffers.lock() {
            Ok(buffers) => buffers.pending.held() + buffers.transcript.held(),
            Err(_) => 0,
        }
    }
}

async fn collect(
    mut rx: mpsc::Receiver<OutputChunk>,
    buffers: Arc<Mutex<Buffers>>,
    mut events: Option<mpsc::Sender<OutputChunk>>,
    exit: watch::Receiver<Option<i32>>,
    finished: watch::Sender<Option<i32>>,
) {
    while let Some(chunk) = rx.recv().await {
        if let Ok(mut buffers) = buffers.lock() {
            buffers.pending.push(&chunk.bytes);
            buffers.transcript.push(&chunk.bytes);
        }
        if let Some(sender) = &events {
            if sender.send(chunk).await.is_err() {
                events = None;
            }
        }
    }
    let code = wait_exit(exit).await;
    finished.send_replace(Some(code));
}

/// Length of a trailing UTF-8 sequence that `bytes` cuts short (0 if none): what a reader
/// holds back until the rest of the character arrives.
pub fn incomplete_utf8_suffix(bytes: &[u8]) -> usize {
    // A sequence is at most 4 bytes: look at the last 3 for its lead byte.
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // continuation byte: keep looking for the lead
        }
        let needed = match byte {
            b if b & 0b1110_0000 == 0b1100_0000 => 2,
            b if b & 0b1111_0000 == 0b1110_0000 => 3,
            b if b & 0b1111_1000 == 0b1111_0000 => 4,
            _ => 1,
        };
        return if needed > back { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::incomplete_utf8_suffix;

    #[test]
    fn split_utf8_sequences_are_held_back() {
        let euro = "€".as_bytes(); // 3 bytes
        assert_eq!(incomplete_utf8_suffix(b"abc"), 0);
        assert_eq!(incomplete_utf8_suffix(euro), 0);
        assert_eq!(incomplete_utf8_suffix(&euro[..1]), 1);
        assert_eq!(incomplete_utf8_suffix(&[b'a', euro[0], euro[1]]), 2);
        assert_eq!(incomplete_utf8_suffix(&"é".as_bytes()[..1]), 1);
        assert_eq!(incomplete_utf8_suffix(b""), 0);
        // Invalid bytes are not held back forever.
        assert_eq!(incomplete_utf8_suffix(&[0x80, 0x80, 0x80]), 0);
    }
}
