//! The writer task: the only owner of the output stream. It writes queued frames one per line
//! and flushes when the queue is momentarily empty, so a burst (a streamed answer) becomes a
//! few large writes instead of one per message.

use crate::frame::Frame;
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
        if write_one(&mut out, &frame).await.is_err() {
            closed.cancel();
            return;
        }
        while let Ok(next) = frames.try_recv() {
            if write_one(&mut out, &next).await.is_err() {
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
