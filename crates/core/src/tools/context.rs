//! What one tool call may use, cloned out of the turn so calls can run concurrently, and the
//! items it completes. Items are announced at once and collected in a [`CallScope`]; the turn
//! records them (rollout + the turn's item list) afterwards, in call order.

use super::thread_tools::ThreadTools;
use crate::clock::now_ms;
use crate::settings::ThreadSettings;
use crate::sink::Sink;
use crate::status::StatusCell;
use crate::store_access::StoreAccess;
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[derive(Clone)]
pub struct ToolCtx {
    /// The client channel, routed to this thread and to the connection that started the turn
    /// (server requests such as approvals go there first).
    pub sink: Sink,
    pub thread_id: String,
    pub turn_id: String,
    /// Fires when the turn is interrupted; processes a call starts hang off child tokens.
    pub cancel: CancellationToken,
    pub settings: Arc<ThreadSettings>,
    pub tools: Arc<ThreadTools>,
    pub status: Arc<StatusCell>,
    /// Where work that outlives its call (a terminal session ending later) records its
    /// items; `None` for an ephemeral thread.
    pub rollout: Option<StoreAccess>,
    /// The runtime's tracker, for such work: a shutdown waits (bounded) for it.
    pub tasks: TaskTracker,
}

/// An item completed by a call, waiting to be recorded into the turn.
pub struct Completed {
    pub item: ThreadItem,
    /// The turn the item belongs to: a session polled now may have started in an earlier turn.
    pub turn_id: String,
    pub started_ms: i64,
    pub completed_ms: i64,
    /// Rollout-only lines recorded right after the item (a patch's file checkpoint).
    pub extra: Vec<codex_store::RolloutEntry>,
}

/// One call's view of the turn plus the items it completed.
pub struct CallScope {
    pub ctx: ToolCtx,
    pub completed: Vec<Completed>,
}

impl ToolCtx {
    pub fn scope(&self) -> CallScope {
        CallScope {
            ctx: self.clone(),
            completed: Vec::new(),
        }
    }

    pub async fn item_started(&self, item: &ThreadItem, started_ms: i64) {
        self.sink
            .notify::<m::ItemStarted>(&ItemStartedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                started_at_ms: started_ms,
                item: item.clone(),
            })
            .await;
    }

    /// Raises or lowers the thread's `waitingOnApproval` flag (see
    /// [`StatusCell::change_waiting`]) and announces the change.
    pub async fn set_waiting(&self, waiting: bool, announce_clear: bool) {
        if let Some(status) = self.status.change_waiting(waiting, announce_clear) {
            self.sink
                .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                    thread_id: self.thread_id.clone(),
                    status,
                })
                .await;
        }
    }
}

impl CallScope {
    /// Announces `item/completed` now (under `turn_id`, the turn the item started in) and keeps
    /// the item for the turn record.
    pub async fn item_completed_in(&mut self, turn_id: &str, item: ThreadItem, started_ms: i64) {
        let completed_ms = now_ms();
        self.ctx
            .sink
            .notify::<m::ItemCompleted>(&ItemCompletedNotification {
                thread_id: self.ctx.thread_id.clone(),
                turn_id: turn_id.to_string(),
                completed_at_ms: completed_ms,
                item: item.clone(),
            })
            .await;
        self.completed.push(Completed {
            item,
            turn_id: turn_id.to_string(),
            started_ms,
            completed_ms,
            extra: Vec::new(),
        });
    }

    pub async fn item_completed(&mut self, item: ThreadItem, started_ms: i64) {
        let turn_id = self.ctx.turn_id.clone();
        self.item_completed_in(&turn_id, item, started_ms).await;
    }

    /// [`CallScope::item_completed`], plus rollout-only lines recorded right after the item.
    pub async fn item_completed_with(
        &mut self,
        item: ThreadItem,
        started_ms: i64,
        extra: Vec<codex_store::RolloutEntry>,
    ) {
        self.item_completed(item, started_ms).await;
        if let Some(last) = self.completed.last_mut() {
            last.extra = extra;
        }
    }
}
