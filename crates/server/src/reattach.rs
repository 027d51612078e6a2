//! Re-attaching to a thread mid-turn: the `thread/resume` answer carries the running turn as
//! the live log shows it (see `subscriptions`), whatever of it has reached the rollout yet.
//! The turn gets exactly the items completed so far; items started but not completed are
//! announced (`item/started`) right after the answer, so the client follows them to their
//! `item/completed`.

use crate::subscriptions::Logged;
use codex_jsonrpc::Frame;
use codex_protocol::v2::{ThreadItem, Turn, TurnStatus};
use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Deserialize)]
struct Message<P> {
    params: P,
}

#[derive(Deserialize)]
struct TurnParams {
    turn: Turn,
}

#[derive(Deserialize)]
struct ItemParams {
    item: ThreadItem,
}

fn params<P: DeserializeOwned>(frame: &Frame) -> Option<P> {
    match serde_json::from_str::<Message<P>>(frame.as_str()) {
        Ok(m) => Some(m.params),
        Err(e) => {
            tracing::error!("unreadable frame in a thread's live log: {e}");
            None
        }
    }
}

/// Puts the running turn of `live_turn` into `turns` (replacing what the rollout had of it)
/// and returns the `item/started` frames of items still in progress.
pub fn patch(turns: &mut Vec<Turn>, live_turn: &[Logged]) -> Vec<Logged> {
    let Some(((_, started), rest)) = live_turn.split_first() else {
        return Vec::new();
    };
    let Some(TurnParams { mut turn }) = params::<TurnParams>(started) else {
        return Vec::new();
    };
    let mut completed: Vec<ThreadItem> = Vec::new();
    let mut in_progress: Vec<(String, Logged)> = Vec::new();
    for (method, frame) in rest {
        let Some(ItemParams { item }) = params::<ItemParams>(frame) else {
            continue;
        };
        if *method == "item/started" {
            in_progress.push((item.id().to_string(), (*method, frame.clone())));
        } else {
            in_progress.retain(|(id, _)| id != item.id());
            completed.push(item);
        }
    }
    turn.items = completed;
    turn.status = TurnStatus::InProgress;
    turn.completed_at = None;
    turn.duration_ms = None;
    match turns.iter_mut().find(|t| t.id == turn.id) {
        Some(stored) => {
            stored.items = turn.items;
            stored.status = TurnStatus::InProgress;
            stored.completed_at = None;
            stored.duration_ms = None;
        }
        None => turns.push(turn),
    }
    in_progress.into_iter().map(|(_, logged)| logged).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(method: &str, params: serde_json::Value) -> Frame {
        Frame::notification(method, &params).unwrap()
    }

    fn agent(id: &str, text: &str) -> serde_json::Value {
        json!({"type": "agentMessage", "id": id, "text": text, "phase": null, "memoryCitation": null})
    }

    #[test]
    fn the_running_turn_gets_the_completed_items_and_in_progress_ones_are_announced() {
        let turn = json!({"id": "u1", "items": [], "itemsView": "notLoaded", "status": "inProgress",
                          "error": null, "startedAt": 5, "completedAt": null, "durationMs": null});
        let item = |m: &'static str, v| {
            (
                m,
                frame(
                    m,
                    json!({"threadId": "t", "turnId": "u1", "startedAtMs": 1, "completedAtMs": 1, "item": v}),
                ),
            )
        };
        let log = vec![
            (
                "turn/started",
                frame("turn/started", json!({"threadId": "t", "turn": turn})),
            ),
            item("item/started", agent("a", "")),
            item("item/completed", agent("a", "done")),
            item("item/started", agent("b", "")),
        ];
        let mut turns = Vec::new();
        let pending = patch(&mut turns, &log);
        assert_eq!(turns.len(), 1);
        assert_eq!(turns[0].id, "u1");
        assert_eq!(turns[0].status, TurnStatus::InProgress);
        assert_eq!(turns[0].items.len(), 1);
        assert_eq!(turns[0].items[0].id(), "a");
        assert_eq!(pending.len(), 1);
        assert!(pending[0].1.as_str().contains("\"id\":\"b\""));

        // A stored copy of the turn is replaced, not duplicated.
        let mut again = turns.clone();
        again[0].items.clear();
        patch(&mut again, &log);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].items.len(), 1);
        assert!(patch(&mut again, &[]).is_empty());
    }
}
