//! Streaming a command's output to clients as `item/commandExecution/outputDelta`: one
//! notification per chunk read, at most [`MAX_DELTAS`] per command (output beyond that still
//! reaches the item's `aggregatedOutput`), and never a UTF-8 sequence split across two
//! deltas (the partial tail waits for the next chunk).
//!
//! Used by every command that belongs to an item: the model's one-shot commands, its terminal
//! sessions, and the user's shell commands.

use crate::sink::Sink;
use codex_protocol::methods as m;
use codex_protocol::v2::CommandExecutionOutputDeltaNotification;
use tokio::sync::{mpsc, watch};

/// At most this many `outputDelta` notifications per command (the official bound).
pub const MAX_DELTAS: usize = 10_000;
/// Chunks in flight between a command and its pump; a slow client slows the command down.
pub const DELTA_QUEUE: usize = 16;

/// Where the deltas of one command go.
#[derive(Clone)]
pub struct DeltaTarget {
    pub sink: Sink,
    pub thread_id: String,
    /// The turn the item belongs to (for a session, the turn that started it).
    pub turn_id: String,
    pub item_id: String,
}

/// Starts forwarding `chunks` to `target` until the sender side closes. The returned receiver
/// turns true once every delta has been sent, so the item's completion can follow them.
pub fn spawn_pump(
    target: DeltaTarget,
    mut chunks: mpsc::Receiver<codex_exec::OutputChunk>,
) -> watch::Receiver<bool> {
    let (done_tx, done) = watch::channel(false);
    tokio::spawn(async move {
        let mut sent = 0usize;
        let mut carry: Vec<u8> = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            if sent >= MAX_DELTAS {
                // Keep draining: the command must never block on a full queue.
                continue;
            }
            carry.extend_from_slice(&chunk.bytes);
            let complete = carry.len() - codex_exec::incomplete_utf8_suffix(&carry);
            if complete == 0 {
                continue;
            }
            let rest = carry.split_off(complete);
            let text = String::from_utf8_lossy(&carry).into_owned();
            carry = rest;
            sent += 1;
            target.send(text).await;
        }
        if !carry.is_empty() && sent < MAX_DELTAS {
            target
                .send(String::from_utf8_lossy(&carry).into_owned())
                .await;
        }
        done_tx.send_replace(true);
    });
    done
}

impl DeltaTarget {
    async fn send(&self, delta: String) {
        self.sink
            .notify::<m::CommandExecutionOutputDelta>(&CommandExecutionOutputDeltaNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                item_id: self.item_id.clone(),
                delta,
            })
            .await;
    }
}

/// Waits (at most `limit`) until a pump has sent everything.
pub async fn pumped(mut done: watch::Receiver<bool>, limit: std::time::Duration) {
    let _ = tokio::time::timeout(limit, done.wait_for(|d| *d)).await;
}
