//! The end of a turn, whatever ended it: the last rollout lines (a turn-aborted marker for an
//! interrupted turn), the listing metadata published and the thread's lease released (so
//! another server may run the next turn), the thread back to idle (or systemError), and
//! exactly one `turn/completed`, sent only once the turn's record is on disk.

use super::lease::TurnLease;
use super::outcome::Outcome;
use super::recorder::Recorder;
use crate::clock::now_secs;
use crate::rollout::{self, TurnEnd};
use crate::thread::TurnKind;
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use serde_json::json;
use std::time::Instant;
use tokio_util::task::TaskTracker;

const TURN_ABORTED_MARKER: &str = "<turn_aborted>\nThe user stopped the previous turn on purpose. \
Commands it started may have partly run; check the current state before trying again.\n</turn_aborted>";

/// When the turn started, for its timestamps.
pub struct Timing {
    pub started: Instant,
    pub started_at: i64,
}

impl Timing {
    pub fn wire_turn(
        &self,
        turn_id: &str,
        status: TurnStatus,
        error: Option<TurnError>,
        items: Vec<ThreadItem>,
        usage: &ThreadTokenUsage,
    ) -> Turn {
        let done = status != TurnStatus::InProgress;
        let view = if status == TurnStatus::Completed {
            TurnItemsView::Full
        } else {
            TurnItemsView::NotLoaded
        };
        Turn {
            id: turn_id.to_string(),
            items,
            items_view: view,
            status,
            error,
            started_at: Some(self.started_at),
            completed_at: done.then(now_secs),
            duration_ms: done.then(|| self.started.elapsed().as_millis() as i64),
            usage: done.then(|| usage.clone()),
        }
    }
}

/// Records and announces the end of the turn; the fsync that protects against power loss runs
/// afterwards, off the turn's path, tracked by `tasks`.
pub async fn finish(
    mut rec: Recorder,
    outcome: Outcome,
    kind: TurnKind,
    timing: &Timing,
    tasks: &TaskTracker,
    lease: Option<TurnLease>,
) {
    if let Some(active) = rec
        .thread
        .state
        .lock()
        .await
        .active
        .as_mut()
        .filter(|a| a.turn_id == rec.turn_id)
    {
        active.closing = true;
    }
    // An earlier append that failed fails a turn that would otherwise have completed.
    let outcome = match (outcome, rec.settle().await) {
        (Outcome::Completed, Some(e)) => Outcome::Failed(unsaved(&e)),
        (o, _) => o,
    };
    // A turn stopped because another server took its thread over did not end by request.
    let outcome = match (outcome, lease.as_ref().and_then(TurnLease::lost_to)) {
        (Outcome::Interrupted, Some(owner)) => Outcome::Failed(TurnError::new(
            format!(
                "the turn was stopped: {owner} took the thread over after this server's lease \
                 on it expired"
            ),
            CodexErrorInfo::Kind(CodexErrorKind::Other),
        )),
        (o, _) => o,
    };
    let completed_at = now_secs();
    let duration_ms = timing.started.elapsed().as_millis() as i64;
    let end_error = match &outcome {
        Outcome::Failed(e) => Some(e.clone()),
        _ => None,
    };
    let end = TurnEnd {
        turn_id: &rec.turn_id,
        last_agent_message: rec.last_agent_message.as_deref(),
        error: end_error.as_ref(),
        started_at: timing.started_at,
        completed_at,
        duration_ms,
        usage: Some(&rec.usage),
    };
    let mut entries = Vec::new();
    if let Outcome::Interrupted = outcome {
        // A stopped regular turn leaves a marker in the history the model sees next (and in
        // the file, so a resumed thread sees the same); a stopped compaction does not.
        if kind == TurnKind::Regular {
            let marker = rollout::user_message_item(vec![
                json!({"type": "input_text", "text": TURN_ABORTED_MARKER}),
            ]);
            entries.push(rollout::response_item(&marker));
            rec.thread.state.lock().await.history.push(marker);
        }
        entries.push(rollout::turn_aborted(&end));
    } else {
        entries.push(rollout::task_complete(&end));
    }
    rec.persist(entries);
    let outcome = match rec.flush_final().await {
        Ok(()) => outcome,
        Err(e) => match outcome {
            Outcome::Completed => Outcome::Failed(unsaved(&e)),
            other => other,
        },
    };
    // Other servers see the turn in listings and may take the thread before its end is
    // announced, so a client moving to another server right after `turn/completed` can go on.
    let release = async {
        if let Some(lease) = lease {
            lease.release().await;
        }
    };
    tokio::join!(rec.publish(), release);
    let (status, error, thread_status) = match outcome {
        Outcome::Completed => (TurnStatus::Completed, None, ThreadStatus::Idle),
        Outcome::Interrupted => (TurnStatus::Interrupted, None, ThreadStatus::Idle),
        Outcome::Failed(e) => (TurnStatus::Failed, Some(e), ThreadStatus::SystemError),
    };
    {
        // Clear the active turn before announcing the end, so a client that starts the next
        // turn as soon as it sees `turn/completed` gets a fresh turn.
        let mut st = rec.thread.state.lock().await;
        if st.active.as_ref().is_some_and(|a| a.turn_id == rec.turn_id) {
            st.active = None;
        }
        rec.thread.status.set(thread_status.clone());
    }
    // The official order: the thread's new status, then (on failure) the error, then the end.
    rec.sink
        .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
            thread_id: rec.thread_id.clone(),
            status: thread_status,
        })
        .await;
    if let Some(err) = &error {
        rec.sink
            .notify::<m::Error>(&ErrorNotification {
                thread_id: rec.thread_id.clone(),
                turn_id: rec.turn_id.clone(),
                will_retry: false,
                error: err.clone(),
            })
            .await;
    }
    let items = match status {
        TurnStatus::Completed => std::mem::take(&mut rec.items),
        _ => Vec::new(),
    };
    let turn = timing.wire_turn(&rec.turn_id, status, error, items, &rec.usage);
    rec.sink
        .notify::<m::TurnCompleted>(&TurnCompletedNotification {
            thread_id: rec.thread_id.clone(),
            turn,
        })
        .await;
    rec.sync_in_background(tasks);
}

fn unsaved(e: &str) -> TurnError {
    TurnError::new(
        format!("the thread could not be saved: {e}"),
        CodexErrorInfo::Kind(CodexErrorKind::Other),
    )
}
