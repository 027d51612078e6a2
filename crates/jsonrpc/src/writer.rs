//! The writer: the only owner of the output stream. It writes queued frames one per line and
//! flushes when the queue is momentarily empty, so a burst (a streamed answer) becomes a few
//! large writes instead of one per message. For async streams it is a task; for stdout it is a
//! thread of its own doing plain blocking writes (tokio's stdout hands every write and every
//! flush to the blocking pool, two thread hand-offs per burst).

use crate::frame::Frame;
use std::io::Write;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Runs until every sender is gone or `closed` fires (then drains what is queued), flushing
/// before it returns. A write error closes the connection.
pub async fn run(
    mut out: impl AsyncWrite + Unpin,
    mut frames: mpsc::Receiver<Frame>,
    closed: CancellationToken,
) {
    loop {
        let frame = tokio::select! {
            biased;
            frame = frames.recv() => frame,
            _ = closed.cancelled() => {
                // Senders may still be queueing; take only what is there now.
                frames.close();
                frames.recv().await
            }
        };
        let Some(frame) = frame else { break };
        if frame.is_empty() {
            continue;
        }
        if write_one(&mut out, &frame).await.is_err() {
            closed.cancel();
            return;
        }
        while let Ok(next) = frames.try_recv() {
            if !next.is_empty() && write_one(&mut out, &next).await.is_err() {
                closed.cancel();
                return;
            }
        }
        if out.flush().await.is_err() {
            closed.cancel();
            return;
        }
    }
    let _ = out.flush().await;
    closed.cancel();
}

async fn write_one(out: &mut (impl AsyncWrite + Unpin), frame: &Frame) -> std::io::Result<()> {
    out.write_all(frame.as_str().as_bytes()).await?;
    out.write_all(b"\n").await
}

/// The writer on a thread of its own, over a blocking stream: runs until every sender is gone
/// or the connection is closed and its queue drained; flushes before it returns.
pub fn run_blocking(
    mut out: impl Write,
    mut frames: mpsc::Receiver<Frame>,
    closed: CancellationToken,
) {
    while let Some(frame) = frames.blocking_recv() {
        let mut burst = Some(frame);
        while let Some(frame) = burst {
            if !frame.is_empty() && write_line(&mut out, &frame).is_err() {
                closed.cancel();
                return;
            }
            burst = frames.try_recv().ok();
        }
        if out.flush().is_err() {
            closed.cancel();
            return;
        }
        if closed.is_cancelled() {
            // Senders may still be queueing; take only what is there now.
            frames.close();
        }
    }
    let _ = out.flush();
    closed.cancel();
}

fn write_line(out: &mut impl Write, frame: &Frame) -> std::io::Result<()> {
    out.write_all(frame.as_str().as_bytes())?;
    out.write_all(b"\n")
}
