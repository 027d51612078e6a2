//! One connected client as the server knows it: its [`Peer`], what it said in `initialize`
//! (identity, notification opt-outs), the opaque [`Origin`] the core routes by, and its
//! `fs/watch` watches.

use crate::watches::ConnectionWatches;
use codex_core::{Caller, ClientIdentity, Origin};
use codex_jsonrpc::Peer;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

pub struct ClientConnection {
    pub origin: Origin,
    pub peer: Peer,
    /// Set once, by `initialize`.
    identity: OnceLock<Arc<ClientIdentity>>,
    /// Notification methods the client asked not to receive.
    opted_out: OnceLock<HashSet<String>>,
    /// This connection's `fs/watch` watches; dropped when it closes.
    pub fs_watches: ConnectionWatches,
}

impl ClientConnection {
    pub fn new(origin: Origin, peer: Peer) -> ClientConnection {
        ClientConnection {
            origin,
            peer,
            identity: OnceLock::new(),
            opted_out: OnceLock::new(),
            fs_watches: ConnectionWatches::default(),
        }
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
}
