//! The `fs/watch` state of one connection. Watch ids are the client's own, so each connection
//! has its own [`WatchRegistry`], started by its first `fs/watch` and dropped when the
//! connection closes (which stops its kernel watches); its `fs/changed` notifications go to
//! this connection only.

use codex_jsonrpc::Peer;
use codex_protocol::methods as m;
use codex_protocol::v2::FsChangedNotification;
use codex_workspace::watch::WatchRegistry;
use codex_workspace::WorkspaceError;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// `fs/changed` notifications waiting for the connection's queue; when full, the registry
/// waits (its coalescing then merges more events into each notification).
const CHANGED_QUEUE: usize = 64;

#[derive(Default)]
pub struct ConnectionWatches {
    registry: Mutex<Option<Arc<WatchRegistry>>>,
}

impl ConnectionWatches {
    /// The connection's registry, started on first use. `wanted` is false when the client
    /// opted out of `fs/changed`: its watches still answer, nothing is sent.
    pub fn registry(
        &self,
        peer: &Peer,
        wanted: bool,
    ) -> Result<Arc<WatchRegistry>, WorkspaceError> {
        let mut slot = self
            .registry
            .lock()
            .map_err(|_| WorkspaceError::Internal("watch registry lock poisoned".into()))?;
        if let Some(registry) = slot.as_ref() {
            return Ok(registry.clone());
        }
        let (tx, rx) = mpsc::channel(CHANGED_QUEUE);
        let registry = Arc::new(WatchRegistry::new(tx)?);
        // Ends when the registry (the only sender) is dropped, or the connection closes.
        tokio::spawn(forward(rx, peer.clone(), wanted));
        *slot = Some(registry.clone());
        Ok(registry)
    }

    /// The registry if the connection ever watched something.
    pub fn existing(&self) -> Option<Arc<WatchRegistry>> {
        self.registry.lock().ok().and_then(|slot| slot.clone())
    }

    /// Drops the registry: every watch of the connection ends.
    pub fn close(&self) {
        if let Ok(mut slot) = self.registry.lock() {
            slot.take();
        }
    }
}

async fn forward(mut changes: mpsc::Receiver<FsChangedNotification>, peer: Peer, wanted: bool) {
    while let Some(change) = changes.recv().await {
        if wanted && peer.notify::<m::FsChanged>(&change).await.is_err() {
            return; // the connection is gone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn closing_drops_the_registry_and_its_watches() {
        let (peer, _outbox) = Peer::new(8);
        let watches = ConnectionWatches::default();
        let dir = tempfile::tempdir().unwrap();
        let registry = watches.registry(&peer, true).unwrap();
        registry
            .watch(&codex_protocol::v2::FsWatchParams {
                path: dir.path().to_path_buf(),
                watch_id: "w".into(),
            })
            .unwrap();
        let weak = Arc::downgrade(&registry);
        drop(registry);
        // The same registry while the connection lives.
        let again = watches.registry(&peer, true).unwrap();
        assert_eq!(again.len(), 1);
        drop(again);
        watches.close();
        assert!(
            weak.upgrade().is_none(),
            "the registry outlived its connection"
        );
        assert!(watches.existing().is_none());
    }
}
