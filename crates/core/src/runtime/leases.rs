//! Claiming a thread for a turn: the thread's lease in the store, so that one server at a
//! time runs turns on it (servers sharing a `$CODEX_HOME` or a PostgreSQL store). A thread
//! leased by another server is refused with an error naming that server; one whose lease
//! another server held since this one last did is re-read first, so the turn continues
//! from what that server wrote.

use super::Runtime;
use crate::error::CoreError;
use crate::thread::{LoadedThread, ThreadState};

impl Runtime {
    /// Takes this server's lease on `thread` for a turn about to be accepted (under the
    /// thread's state lock, `st`). Ephemeral threads live in this server only: no lease.
    ///
    /// # Errors
    /// [`CoreError::InvalidRequest`] naming the owner when another server holds the lease;
    /// the store's error when it cannot be reached.
    pub(super) async fn claim_for_turn(
        &self,
        thread: &LoadedThread,
        st: &mut ThreadState,
    ) -> Result<(), CoreError> {
        if thread.ephemeral {
            return Ok(());
        }
        let store = &self.inner.store;
        let lease = store
            .acquire_lease(&thread.id)
            .await
            .map_err(CoreError::from_store)?;
        if let Some(previous) = lease.taken_over_from {
            tracing::debug!(thread = %thread.id, %previous, "thread held by another server since; re-reading it");
            if let Err(e) = self.reread(&thread.id, st).await {
                store.release_lease(&thread.id).await;
                return Err(e);
            }
        }
        Ok(())
    }

    /// Gives back a lease taken by [`Runtime::claim_for_turn`] for a turn that was not
    /// started after all (its parameters were refused).
    pub(super) async fn unclaim(&self, thread: &LoadedThread) {
        if !thread.ephemeral {
            self.inner.store.release_lease(&thread.id).await;
        }
    }

    /// Fails when another server runs a turn on thread `id` (its lease is held and has not
    /// expired): for operations that must not change a thread under a running turn.
    pub(super) async fn require_not_running_elsewhere(&self, id: &str) -> Result<(), CoreError> {
        let store = &self.inner.store;
        store
            .acquire_lease(id)
            .await
            .map_err(CoreError::from_store)?;
        store.release_lease(id).await;
        Ok(())
    }
}
