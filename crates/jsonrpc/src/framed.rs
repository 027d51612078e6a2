//! Message-framed transports: one JSON-RPC message per transport message (a WebSocket text
//! frame) instead of one per line. The transport owns its reader and writer tasks; this module
//! gives them the same behaviour as a line connection: [`FramedInput::text`] handles a
//! received message exactly as the line reader handles a line, and the writer drains the
//! [`Outbox`] (honouring [`Outbox::last_words`]). [`Connection::from_tasks`] then wraps the
//! tasks into a [`Connection`] like any other.

use crate::connection::{accept_text, Incoming, Limits};
use crate::frame::Frame;
use crate::inspect;
use crate::peer::{Outbox, Peer};
use codex_protocol::jsonrpc::JsonRpcErrorBody;
use tokio::sync::mpsc;

/// The receiving side of a message-framed connection.
pub struct FramedInput {
    peer: Peer,
    incoming: mpsc::Sender<Incoming>,
    max_bytes: usize,
}

/// The parts of a message-framed connection: the [`Peer`] to send on, what the other side
/// sends (for [`crate::Connection::from_tasks`]), the input the reader task feeds and the
/// outbox the writer task drains.
pub fn framed(limits: Limits) -> (Peer, mpsc::Receiver<Incoming>, FramedInput, Outbox) {
    let (peer, outbox) = Peer::new(limits.outgoing_queue);
    let (tx, incoming) = mpsc::channel(limits.incoming_queue.max(1));
    let input = FramedInput {
        peer: peer.clone(),
        incoming: tx,
        max_bytes: limits.max_line_bytes,
    };
    (peer, incoming, input, outbox)
}

impl FramedInput {
    /// Handles one received message. A message over the size limit is answered -32600 naming
    /// the limit (with its id when it can be read), as an over-long line is. False once the
    /// connection is closed: the reader stops.
    pub async fn text(&self, text: &str) -> bool {
        if text.len() > self.max_bytes {
            let limit = self.max_bytes;
            tracing::warn!("rejected a message of {} bytes (limit {limit})", text.len());
            let head = &text.as_bytes()[..text.len().min(4096)];
            let error = JsonRpcErrorBody::invalid_request(format!(
                "message too large: messages are limited to {limit} bytes"
            ));
            return self
                .peer
                .send(Frame::error(inspect::peek_id(head).as_ref(), &error))
                .await
                .is_ok();
        }
        accept_text(text.trim(), &self.peer, &self.incoming).await
    }
}
