//! What one tool call needs from its turn, cloned out of the `&mut TurnRun` so that calls can
//! run concurrently. Items a call completes are announced at once and collected in a
//! [`CallScope`]; the dispatcher records them into the turn (rollout + turn items) in call order.

use super::sessions::ThreadTools;
use crate::client::ClientHandle;
use crate::settings::ThreadSettings;
use crate::thread::LoadedThread;
use crate::turn::{now_ms, TurnRun};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct ToolCtx {
    pub client: ClientHandle,
    pub thread: Arc<LoadedThread>,
    pub thread_id: String,
    pub turn_id: String,
    pub cancel: CancellationToken,
    pub settings: ThreadSettings,
    pub tools: Arc<ThreadTools>,
}

/// An item completed by a call, waiting to be recorded into the turn.
pub struct Completed {
    pub item: ThreadItem,
    pub turn_id: String,
    pub started_ms: i64,
    pub completed_ms: i64,
}

/// One call's view of the turn plus the items it completed.
pub struct CallScope {
    pub ctx: ToolCtx,
    pub completed: Vec<Completed>,
}

impl ToolCtx {
    pub async fn from_turn(turn: &TurnRun) -> ToolCtx {
        let tools = turn.thread.state.lock().await.tools.clone();
        ToolCtx {
            client: turn.client().clone(),
            thread: turn.thread.clone(),
            thread_id: turn.thread_id.clone(),
            turn_id: turn.turn_id.clone(),
            cancel: turn.cancel.clone(),
            settings: turn.settings.clone(),
            tools,
        }
    }

    pub fn scope(&self) -> CallScope {
        CallScope {
            ctx: self.clone(),
            completed: Vec::new(),
        }
    }

    pub async fn item_started(&self, item: &ThreadItem, started_ms: i64) {
        self.client
            .notify::<m::ItemStarted>(&ItemStartedNotification {
                thread_id: self.thread_id.clone(),
                turn_id: self.turn_id.clone(),
                started_at_ms: started_ms,
                item: item.clone(),
            })
            .await;
    }

    /// Flips the thread's `waitingOnApproval` flag. Several calls may wait at once; the flag is
    /// raised by the first and lowered by the last. `announce_clear` is false when the turn is
    /// being interrupted (its end sends the final status anyway).
    pub async fn set_waiting(&self, waiting: bool, announce_clear: bool) {
        let changed = self.tools.change_waiting(waiting);
        if !changed || (!waiting && !announce_clear) {
            return;
        }
        let flags = if waiting {
            vec![ThreadActiveFlag::WaitingOnApproval]
        } else {
            Vec::new()
        };
        let status = ThreadStatus::Active {
            active_flags: flags,
        };
        {
            let mut st = self.thread.state.lock().await;
            if matches!(st.status, ThreadStatus::Active { .. }) {
                st.status = status.clone();
            }
        }
        self.client
            .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: self.thread_id.clone(),
                status,
            })
            .await;
    }
}

impl CallScope {
    /// Announces `item/completed` now (under `turn_id`, the turn the item started in) and keeps
    /// the item for the turn record.
    pub async fn item_completed_in(&mut self, turn_id: &str, item: ThreadItem, started_ms: i64) {
        let completed_ms = now_ms();
        self.ctx
            .client
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
        });
    }

    pub async fn item_completed(&mut self, item: ThreadItem, started_ms: i64) {
        let turn_id = self.ctx.turn_id.clone();
        self.item_completed_in(&turn_id, item, started_ms).await;
    }
}

/// Writes completed items to the rollout and, for items of this turn, to the turn's item list.
pub fn record(turn: &mut TurnRun, completed: Vec<Completed>) {
    for c in completed {
        let entry = crate::rollout::item_completed(
            &turn.thread_id,
            &c.turn_id,
            &c.item,
            c.started_ms,
            c.completed_ms,
        );
        turn.persist(vec![entry]);
        if c.turn_id == turn.turn_id {
            turn.items.push(c.item);
        }
    }
}
