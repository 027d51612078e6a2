//! One connected client as the server knows it: its [`Peer`], what it said in `initialize`
//! (identity, notification opt-outs), the opaque [`Origin`] the core routes by, the threads it
//! explicitly unsubscribed from, whether it was dropped for not keeping up, and its
//! `fs/watch` watches.

use crate::watches::ConnectionWatches;
use codex_core::{Caller, ClientIdentity, Origin};
use codex_jsonrpc::{Frame, Peer};
use codex_protocol::jsonrpc::{error_codes, JsonRpcErrorBody};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use tokio_util::sync::CancellationToken;

pub struct ClientConnection {
    pub origin: Origin,
    pub peer: Peer,
    /// Set once, by `initialize`.
    identity: OnceLock<Arc<ClientIdentity>>,
    /// Notification methods the client asked not to receive.
    opted_out: OnceLock<HashSet<String>>,
    /// Threads the client left with `thread/unsubscribe`: starting a turn there does not
    /// subscribe it again, only `thread/resume` does.
    left: Mutex<HashSet<String>>,
    /// Fired when the client is dropped ([`ClientConnection::kick`]): its requests stop being
    /// read.
    kicked: CancellationToken,
    /// The bound of its outgoing queue (frames): past it, the client is dropped.
    queue_limit: usize,
    /// This connection's `fs/watch` watches; dropped when it closes.
    pub fs_watches: ConnectionWatches,
}

impl ClientConnection {
    pub fn new(origin: Origin, peer: Peer, queue_limit: usize) -> ClientConnection {
        ClientConnection {
            origin,
            peer,
            identity: OnceLock::new(),
            opted_out: OnceLock::new(),
            left: Mutex::new(HashSet::new()),
            kicked: CancellationToken::new(),
            queue_limit,
            fs_watches: ConnectionWatches::default(),
        }
    }

    /// Queues a notification without waiting: a client whose queue is full is dropped
    /// ([`ClientConnection::kick`]) rather than allowed to hold up the sender, and with it
    /// every other client of the same turn.
    pub fn deliver(&self, method: &str, frame: &Frame) {
        if !self.wants(method) {
            return;
        }
        match self.peer.try_send(frame.clone()) {
            Ok(true) => {}
            Ok(false) => self.kick(),
            // A client that is gone misses the notification; the others still get it.
            Err(_closed) => {}
        }
    }

    pub fn queue_limit(&self) -> usize {
        self.queue_limit
    }

    pub fn initialized(&self) -> bool {
        self.identity.get().is_some()
    }

    /// Records the handshake; false when the client was already initialized.
    pub fn initialize(&self, identity: ClientIdentity, opted_out: HashSet<String>) -> bool {
        if self.identity.set(Arc::new(identity)).is_err() {
            return false;
        }
        let _ = self.opted_out.set(opted_out);
        true
    }

    pub fn identity(&self) -> Arc<ClientIdentity> {
        self.identity.get().cloned().unwrap_or_default()
    }

    /// The caller of core operations made on this client's behalf.
    pub fn caller(&self) -> Caller {
        Caller {
            origin: Some(self.origin),
            client: self.identity(),
        }
    }

    /// Whether the client receives notification `method`.
    pub fn wants(&self, method: &str) -> bool {
        self.opted_out
            .get()
            .is_none_or(|opted_out| !opted_out.contains(method))
    }

    /// Whether the client may be sent anything: initialized and not gone.
    pub fn reachable(&self) -> bool {
        self.initialized() && !self.peer.is_closed()
    }

    /// Remembers that the client left `thread_id` (`thread/unsubscribe`).
    pub fn leave(&self, thread_id: &str) {
        if let Ok(mut left) = self.left.lock() {
            left.insert(thread_id.to_string());
        }
    }

    /// Forgets that the client left `thread_id` (it resumed, started or forked it).
    pub fn rejoin(&self, thread_id: &str) {
        if let Ok(mut left) = self.left.lock() {
            left.remove(thread_id);
        }
    }

    pub fn has_left(&self, thread_id: &str) -> bool {
        self.left.lock().is_ok_and(|left| left.contains(thread_id))
    }

    /// Drops a client whose outgoing queue overflowed: what is queued for it is discarded, an
    /// error saying why is the last thing written to it, and its connection closes. Other
    /// clients are not held up by it.
    pub fn kick(&self) {
        let queued = self.queue_limit;
        if self.kicked.is_cancelled() {
            return;
        }
        tracing::warn!(
            origin = self.origin.0,
            "client dropped: it fell {queued} messages behind"
        );
        let error = JsonRpcErrorBody::new(
            error_codes::SERVER_OVERLOADED,
            format!(
                "disconnected: this client fell more than {queued} messages behind; \
                 reconnect and resume its threads"
            ),
        )
        .with_data(serde_json::json!({"reason": "slow_client"}));
        self.peer.disconnect(Frame::error(None, &error));
        self.kicked.cancel();
    }

    /// Whether the client was dropped for not keeping up.
    pub fn is_kicked(&self) -> bool {
        self.kicked.is_cancelled()
    }

    /// Resolves once the client is dropped.
    pub async fn kicked(&self) {
        self.kicked.cancelled().await;
    }
}
