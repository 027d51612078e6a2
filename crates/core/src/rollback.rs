//! The revert marker in a rollout, and which turns (and lines) it removes.
//!
//! A revert never rewrites the file: it appends `event_msg {type: "thread_rolled_back",
//! num_turns, before_turn_id}`. `num_turns` is the official runtime's field (it drops that many
//! of the last turns, so a file we reverted reads the same there); `before_turn_id` is ours and
//! names the first removed turn exactly. Everything from that turn's `task_started` line up to
//! the marker is dead: a reader skips it, so history, turns, usage and any compaction inside
//! the removed turns are as if they never happened.
//!
//! Readers: `history::rebuild` (whole files, line indexes as positions) and `turn_index`
//! (byte offsets); both apply [`cut_index`] to the turns still live at the marker.

use codex_store::{RolloutEntry, RolloutLine};
use serde_json::{json, Value};

pub const ROLLED_BACK: &str = "thread_rolled_back";

/// The marker removing `num_turns` turns, the first of which is `before_turn_id`.
pub fn marker(before_turn_id: &str, num_turns: usize) -> RolloutEntry {
    RolloutEntry::new(
        "event_msg",
        json!({"type": ROLLED_BACK, "num_turns": num_turns, "before_turn_id": before_turn_id}),
    )
}

/// The marker's fields when `payload` (of an `event_msg`) is one.
pub fn parse_marker(payload: &Value) -> Option<(Option<&str>, u64)> {
    if payload["type"] != ROLLED_BACK {
        return None;
    }
    Some((
        payload["before_turn_id"].as_str(),
        payload["num_turns"].as_u64().unwrap_or(0),
    ))
}

/// Index (into the live turns, oldest first) of the first turn a marker removes; `None` when it
/// removes nothing. Our `before_turn_id` wins; files of the official runtime only count turns.
pub fn cut_index<'a>(
    live: impl ExactSizeIterator<Item = &'a str>,
    before_turn_id: Option<&str>,
    num_turns: u64,
) -> Option<usize> {
    let len = live.len();
    let mut live = live;
    if let Some(i) = before_turn_id.and_then(|id| live.position(|t| t == id)) {
        return Some(i);
    }
    let n = usize::try_from(num_turns).unwrap_or(usize::MAX);
    (n > 0 && len > 0).then(|| len.saturating_sub(n))
}

/// For each line, whether a later marker removed it.
pub fn dead_lines(lines: &[RolloutLine]) -> Vec<bool> {
    let mut dead = vec![false; lines.len()];
    if !lines.iter().any(is_marker_line) {
        return dead;
    }
    // Live turns as (id, index of their `task_started` line).
    let mut live: Vec<(String, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.kind != "event_msg" {
            continue;
        }
        let p = &line.payload;
        if p["type"] == "task_started" {
            live.push((p["turn_id"].as_str().unwrap_or_default().to_string(), i));
        } else if let Some((before, n)) = parse_marker(p) {
            let cut = cut_index(live.iter().map(|(id, _)| id.as_str()), before, n);
            if let Some(k) = cut {
                let start = live[k].1;
                dead[start..=i].iter_mut().for_each(|d| *d = true);
                live.truncate(k);
            }
        }
    }
    dead
}

fn is_marker_line(line: &RolloutLine) -> bool {
    line.kind == "event_msg" && line.payload["type"] == ROLLED_BACK
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(payload: Value) -> RolloutLine {
        RolloutLine {
            timestamp: String::new(),
            ordinal: None,
            kind: "event_msg".into(),
            payload,
        }
    }

    fn started(id: &str) -> RolloutLine {
        ev(json!({"type": "task_started", "turn_id": id}))
    }

    #[test]
    fn ours_names_the_turn_official_counts_turns() {
        let ids = ["a", "b", "c"];
        assert_eq!(cut_index(ids.iter().copied(), Some("b"), 2), Some(1));
        assert_eq!(cut_index(ids.iter().copied(), None, 1), Some(2));
        assert_eq!(cut_index(ids.iter().copied(), Some("gone"), 5), Some(0));
        assert_eq!(cut_index(ids.iter().copied(), None, 0), None);
    }

    #[test]
    fn markers_kill_the_removed_turns_and_themselves_even_when_nested() {
        let lines = vec![
            started("a"),
            ev(json!({"type": "x"})),
            started("b"),
            started("c"),
            marker("c", 1).into_line(),
            started("d"),
            marker("b", 2).into_line(),
            started("e"),
        ];
        let dead = dead_lines(&lines);
        assert_eq!(
            dead,
            vec![false, false, true, true, true, true, true, false]
        );
        // The official form: count the live turns.
        let lines = vec![
            started("a"),
            started("b"),
            ev(json!({"type": ROLLED_BACK, "num_turns": 1})),
        ];
        assert_eq!(dead_lines(&lines), vec![false, true, true]);
    }

    trait IntoLine {
        fn into_line(self) -> RolloutLine;
    }

    impl IntoLine for RolloutEntry {
        fn into_line(self) -> RolloutLine {
            RolloutLine {
                timestamp: String::new(),
                ordinal: None,
                kind: self.kind,
                payload: self.payload,
            }
        }
    }
}
