//! Unloading a thread nobody follows any more: the server calls [`Runtime::unload_thread`]
//! when a thread's last subscriber leaves. A thread with a running turn stays until the turn
//! has ended (the caller waits on [`Unload::Busy`] and asks again); an idle one is dropped
//! from memory (its rollout stays: the next request loads it again) and announced
//! `thread/status/changed` `notLoaded`, then `thread/closed`.

use super::Runtime;
use codex_protocol::methods as m;
use codex_protocol::v2::{ThreadClosedNotification, ThreadStatus, ThreadStatusChangedNotification};
use tokio::sync::watch;

/// What [`Runtime::unload_thread`] did.
#[derive(Debug)]
pub enum Unload {
    /// Dropped from memory and announced.
    Unloaded,
    /// A turn is running: ask again once the receiver reads true (the turn has ended).
    Busy(watch::Receiver<bool>),
    /// Someone wants the thread after all (`still_unwanted` said no): it stays.
    Kept,
    /// The thread is not loaded.
    NotLoaded,
}

impl Runtime {
    /// Whether thread `id` is loaded in memory.
    pub fn is_loaded(&self, id: &str) -> bool {
        self.inner.threads.get(id).is_some()
    }

    /// Unloads thread `id` if it is idle and `still_unwanted` (asked at the last moment, under
    /// the loaded-thread table's lock, so a request that subscribes before looking the thread
    /// up is never handed a thread that is being unloaded).
    pub async fn unload_thread(&self, id: &str, still_unwanted: impl FnOnce() -> bool) -> Unload {
        let Some(thread) = self.inner.threads.get(id) else {
            return Unload::NotLoaded;
        };
        {
            let st = thread.state.lock().await;
            if let Some(active) = &st.active {
                return Unload::Busy(active.finished.subscribe());
            }
            if !self.inner.threads.remove_if(&thread, still_unwanted) {
                return Unload::Kept;
            }
            thread.status.set(ThreadStatus::NotLoaded);
        }
        let sink = self.inner.sink.for_thread(id);
        sink.notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
            thread_id: id.to_string(),
            status: ThreadStatus::NotLoaded,
        })
        .await;
        sink.notify::<m::ThreadClosed>(&ThreadClosedNotification {
            thread_id: id.to_string(),
        })
        .await;
        Unload::Unloaded
    }
}
