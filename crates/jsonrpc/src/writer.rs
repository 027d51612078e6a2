//! The writer: the only owner of the output stream. It writes queued frames one per line and
//! flushes when the queue is momentarily empty, so a burst (a streamed answer) becomes a few
//! large writes instead of one per message. For async streams it is a task; for stdout it is a
//! thread of its own doing plain blocking writes (tokio's stdout hands every write and every
//! flush to the blocking pool, two thread hand-offs per burst).
//!
//! A peer dropped with [`crate::Peer::disconnect`] gets no more of its queue: the writer writes
//! the last words after the frame it is writing and stops.

use crate::frame::Frame;
use crate::peer::Outbox;
use std::io::Write;
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// Runs until every sender is gone or the connection closes (then drains what is queued),
/// flushing before it returns. A write error closes the connection.
pub async fn run(mut out: impl AsyncWrite + Unpin, mut outbox: Outbox) {
    'writing: while let Some(frame) = outbox.next().await {
        let mut burst = Some(frame);
        while let Some(frame) = burst {
            if outbox.last_words().is_some() {
                break 'writing;
            }
            if !frame.is_empty() && write_one(&mut out, &frame).await.is_err() {
                outbox.closed.cancel();
                return;
            }
            burst = outbox.frames.try_recv().ok();
        }
        if out.flush().await.is_err() {
            outbox.closed.cancel();
            return;
        }
    }
    if let Some(words) = outbox.last_words() {
        let _ = write_one(&mut out, words).await;
    }
    let _ = out.flush().await;
    outbox.closed.cancel();
}

async fn write_one(out: &mut (impl AsyncWrite + Unpin), frame: &Frame) -> std::io::Result<()> {
    out.write_all(frame.as_str().as_bytes()).await?;
    out.write_all(b"\n").await
}

/// The writer on a thread of its own, over a blocking stream: runs until every sender is gone
/// or the connection is closed and its queue drained; flushes before it returns.
pub fn run_blocking(mut out: impl Write, mut outbox: Outbox) {
    'writing: while let Some(frame) = outbox.frames.blocking_recv() {
        let mut burst = Some(frame);
        while let Some(frame) = burst {
            if outbox.last_words().is_some() {
                break 'writing;
            }
            if !frame.is_empty() && write_line(&mut out, &frame).is_err() {
                outbox.closed.cancel();
                return;
            }
            burst = outbox.frames.try_recv().ok();
        }
        if out.flush().is_err() {
            outbox.closed.cancel();
            return;
        }
        if outbox.closed.is_cancelled() {
            // Senders may still be queueing; take only what is there now.
            outbox.frames.close();
        }
    }
    if let Some(words) = outbox.last_words() {
        let _ = write_line(&mut out, words);
    }
    let _ = out.flush();
    outbox.closed.cancel();
}

fn write_line(out: &mut impl Write, frame: &Frame) -> std::io::Result<()> {
    out.write_all(frame.as_str().as_bytes())?;
    out.write_all(b"\n")
}
