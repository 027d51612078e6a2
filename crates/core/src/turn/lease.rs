//! A running turn's hold on its thread's lease. The runtime takes the lease before it
//! accepts the turn (so a thread owned by another server is refused with the owner's name);
//! while the turn runs, [`TurnLease`] renews it every third of its ttl, and the end of the
//! turn releases it before `turn/completed` is sent, so another server can start the next
//! turn as soon as a client hears that this one ended. A server that dies stops renewing:
//! its lease expires and another server takes the thread over.

use crate::store_access::StoreAccess;
use codex_store::StoreError;
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub struct TurnLease {
    store: StoreAccess,
    thread_id: String,
    /// Stops the renewals (also when the lease is dropped without a release, e.g. the turn
    /// task panicked: the lease then expires on its own).
    stop: CancellationToken,
    renewals: Option<JoinHandle<()>>,
    /// The owner that took the lease over, once it did (the turn was stopped for that).
    lost_to: Arc<Mutex<Option<String>>>,
}

impl TurnLease {
    /// Starts renewing the lease this server took on `thread_id`. Losing it to another
    /// server (this one was stopped for longer than the ttl, say) cancels the turn: the new
    /// owner runs the thread now, and a backend that checks leases refuses our writes.
    pub fn hold(store: StoreAccess, thread_id: String, turn: CancellationToken) -> TurnLease {
        let stop = CancellationToken::new();
        let lost_to = Arc::new(Mutex::new(None));
        let every = store.lease_ttl() / 3;
        let renewals = tokio::spawn({
            let (store, thread_id, stop) = (store.clone(), thread_id.clone(), stop.clone());
            let lost_to = lost_to.clone();
            async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(every) => {}
                    }
                    match store.acquire_lease(&thread_id).await {
                        Ok(_) => {}
                        Err(StoreError::Leased { owner, .. }) => {
                            tracing::error!(thread = %thread_id, %owner, "turn lease lost to another server; stopping the turn");
                            if let Ok(mut lost) = lost_to.lock() {
                                *lost = Some(owner);
                            }
                            turn.cancel();
                            return;
                        }
                        // A store that is briefly unreachable: the next renewal tries again.
                        Err(e) => {
                            tracing::warn!(thread = %thread_id, "renewing the turn lease failed: {e}")
                        }
                    }
                }
            }
        });
        TurnLease {
            store,
            thread_id,
            stop,
            renewals: Some(renewals),
            lost_to,
        }
    }

    /// The owner that took the thread over, when the turn was stopped because of it.
    pub fn lost_to(&self) -> Option<String> {
        self.lost_to.lock().ok().and_then(|lost| lost.clone())
    }

    /// Stops renewing and ends the lease.
    pub async fn release(mut self) {
        self.stop.cancel();
        if let Some(renewals) = self.renewals.take() {
            // A renewal in flight finishes first, so it cannot take the lease back after
            // the release.
            let _ = renewals.await;
        }
        self.store.release_lease(&self.thread_id).await;
    }
}

impl Drop for TurnLease {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
