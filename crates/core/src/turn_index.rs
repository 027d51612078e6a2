//! An index of a thread's rollout by turn, so history is paged without loading the file: each
//! live turn's byte span (from its `task_started` line to the next turn's, or to the end), the
//! lines of it written later inside another turn's span (items of a call that outlived its
//! turn), and the thread's git metadata. Built by one streaming scan, then extended with what
//! was appended since; revert markers (`rollback.rs`) remove turns as the scan meets them.
//!
//! [`TurnIndexes`] keeps the indexes of recently paged threads (bounded); each sits behind an
//! async lock, so two pages of one thread never scan at once.

use crate::rollback;
use codex_protocol::v2::GitInfo;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Thread indexes kept in memory; past this, idle ones are dropped (rebuilt on next use).
const MAX_CACHED: usize = 32;

/// One live turn's place in the file.
#[derive(Clone, Debug)]
struct TurnSpan {
    id: String,
    start: u64,
    /// Where its own lines end; `None` while it is the last turn (it ends where the scan did).
    end: Option<u64>,
    /// Its lines inside later turns' spans: `[from, to)`.
    late: Vec<(u64, u64)>,
}

#[derive(Debug, Default)]
pub struct TurnIndex {
    scanned_to: u64,
    turns: Vec<TurnSpan>,
    by_id: HashMap<String, usize>,
    git: Option<GitInfo>,
    /// `"turn_id":"<id>"` of the turn whose span is open: its own items need no parse.
    open_turn_needle: Option<Vec<u8>>,
}

/// Markers of the lines that can change the index; a line with none of them is not parsed
/// (most of a rollout's bytes: model items and the items of the turn being scanned).
const MARKERS: [&[u8]; 4] = [
    b"task_started",
    rollback::ROLLED_BACK.as_bytes(),
    GIT_INFO_UPDATED.as_bytes(),
    b"session_meta",
];

/// The fields of a line the index looks at; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    payload: Payload<'a>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Payload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    turn_id: Option<Cow<'a, str>>,
    num_turns: Option<u64>,
    #[serde(borrow)]
    before_turn_id: Option<Cow<'a, str>>,
    git: Option<RolloutGit>,
}

/// Git metadata as rollouts spell it (`session_meta.git`, and our update event).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, serde::Serialize)]
pub struct RolloutGit {
    #[serde(default)]
    pub commit_hash: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub repository_url: Option<String>,
}

impl From<RolloutGit> for GitInfo {
    fn from(g: RolloutGit) -> GitInfo {
        GitInfo {
            sha: g.commit_hash,
            branch: g.branch,
            origin_url: g.repository_url,
        }
    }
}

impl From<&GitInfo> for RolloutGit {
    fn from(g: &GitInfo) -> RolloutGit {
        RolloutGit {
            commit_hash: g.sha.clone(),
            branch: g.branch.clone(),
            repository_url: g.origin_url.clone(),
        }
    }
}

/// The event recording a thread's git metadata after `thread/metadata/update`.
pub const GIT_INFO_UPDATED: &str = "thread_git_info_updated";

impl TurnIndex {
    /// Number of live turns.
    pub fn len(&self) -> usize {
        self.turns.len()
    }

    /// Position (oldest first) of a live turn.
    pub fn position(&self, turn_id: &str) -> Option<usize> {
        self.by_id.get(turn_id).copied()
    }

    /// The byte spans holding the turn's lines, in file order.
    pub fn spans(&self, position: usize) -> Vec<(u64, u64)> {
        let Some(t) = self.turns.get(position) else {
            return Vec::new();
        };
        let mut spans = vec![(t.start, t.end.unwrap_or(self.scanned_to))];
        spans.extend(t.late.iter().copied());
        spans
    }

    /// From the first line of the turn at `position` to the end of the scan: what a revert
    /// of that turn removes.
    pub fn tail_from(&self, position: usize) -> Option<(u64, u64)> {
        self.turns.get(position).map(|t| (t.start, self.scanned_to))
    }

    pub fn git(&self) -> Option<GitInfo> {
        self.git.clone()
    }

    /// Where the next scan continues.
    pub fn scanned_to(&self) -> u64 {
        self.scanned_to
    }

    /// Takes in one complete line that starts at position `pos`; the next line starts at
    /// `next` (positions are the store's: byte offsets in a rollout file, line ordinals in
    /// PostgreSQL).
    pub fn observe(&mut self, pos: u64, next: u64, text: &[u8]) {
        if !self.may_change(text) {
            return;
        }
        let Ok(line) = serde_json::from_slice::<Line<'_>>(text) else {
            return;
        };
        let p = line.payload;
        match line.kind.as_ref() {
            "session_meta" => {
                if let Some(git) = p.git {
                    self.git = Some(git.into());
                }
            }
            "event_msg" => match p.kind.as_deref() {
                Some("task_started") => self.start_turn(pos, p.turn_id.as_deref()),
                Some(rollback::ROLLED_BACK) => {
                    self.roll_back(p.before_turn_id.as_deref(), p.num_turns.unwrap_or(0))
                }
                Some("item_completed") => self.note_item(p.turn_id.as_deref(), (pos, next)),
                Some(GIT_INFO_UPDATED) => self.git = p.git.map(Into::into),
                _ => {}
            },
            _ => {}
        }
    }

    /// Whether the line may be one the index records. Exact for every line our writer and the
    /// official one produce: the markers are plain ASCII, which JSON never escapes, and an item
    /// of the open turn carries its compact `"turn_id":"<id>"`.
    fn may_change(&self, text: &[u8]) -> bool {
        let has = |needle: &[u8]| memchr::memmem::find(text, needle).is_some();
        if MARKERS.iter().any(|m| has(m)) {
            return true;
        }
        has(b"item_completed") && !self.open_turn_needle.as_deref().is_some_and(has)
    }

    /// Records where a scan ended.
    pub fn scanned(&mut self, end: u64) {
        self.scanned_to = end;
    }

    fn start_turn(&mut self, pos: u64, turn_id: Option<&str>) {
        if let Some(last) = self.turns.last_mut() {
            last.end.get_or_insert(pos);
        }
        let id = turn_id.unwrap_or_default().to_string();
        self.open_turn_needle = Some(format!("\"turn_id\":\"{id}\"").into_bytes());
        self.by_id.insert(id.clone(), self.turns.len());
        self.turns.push(TurnSpan {
            id,
            start: pos,
            end: None,
            late: Vec::new(),
        });
    }

    fn roll_back(&mut self, before: Option<&str>, num_turns: u64) {
        let ids = self.turns.iter().map(|t| t.id.as_str());
        let Some(cut) = rollback::cut_index(ids, before, num_turns) else {
            return;
        };
        let cut_at = self.turns[cut].start;
        self.open_turn_needle = None;
        for removed in self.turns.drain(cut..) {
            self.by_id.remove(&removed.id);
        }
        for kept in &mut self.turns {
            kept.late.retain(|(from, _)| *from < cut_at);
        }
        // The last kept turn ended where the first removed one began (set when it started);
        // lines after the marker belong to no turn until the next one starts.
    }

    fn note_item(&mut self, turn_id: Option<&str>, span: (u64, u64)) {
        let Some(turn_id) = turn_id else {
            return;
        };
        let inside_own_span = self
            .turns
            .last()
            .is_some_and(|t| t.end.is_none() && t.id == turn_id);
        if inside_own_span {
            return;
        }
        if let Some(&i) = self.by_id.get(turn_id) {
            self.turns[i].late.push(span);
        }
    }
}

/// The indexes of recently paged threads.
#[derive(Default)]
pub struct TurnIndexes {
    map: Mutex<HashMap<String, Arc<tokio::sync::Mutex<TurnIndex>>>>,
}

impl TurnIndexes {
    /// The (possibly empty, not yet scanned) index cell of a thread.
    pub fn cell(&self, thread_id: &str) -> Arc<tokio::sync::Mutex<TurnIndex>> {
        let Ok(mut map) = self.map.lock() else {
            return Arc::default();
        };
        if let Some(cell) = map.get(thread_id) {
            return cell.clone();
        }
        if map.len() >= MAX_CACHED {
            // An index nobody holds can go: it is rebuilt from the file when needed.
            map.retain(|_, cell| Arc::strong_count(cell) > 1);
        }
        map.entry(thread_id.to_string()).or_default().clone()
    }

    /// Forgets a thread's index (deleted thread).
    pub fn forget(&self, thread_id: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(thread_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Feeds lines as a scan would; returns each line's start.
    fn feed(index: &mut TurnIndex, lines: &[serde_json::Value]) -> Vec<u64> {
        let mut starts = Vec::new();
        let mut pos = index.scanned_to;
        for l in lines {
            let text = l.to_string();
            starts.push(pos);
            let next = pos + text.len() as u64 + 1;
            index.observe(pos, next, text.as_bytes());
            pos = next;
        }
        index.scanned(pos);
        starts
    }

    fn ev(payload: serde_json::Value) -> serde_json::Value {
        json!({"timestamp": "", "type": "event_msg", "payload": payload})
    }

    #[test]
    fn spans_late_items_revert_and_git() {
        let mut index = TurnIndex::default();
        let pos = feed(
            &mut index,
            &[
                json!({"type": "session_meta", "payload": {"id": "t", "git": {"branch": "main"}}}),
                ev(json!({"type": "task_started", "turn_id": "a"})),
                ev(json!({"type": "item_completed", "turn_id": "a", "item": {}})),
                ev(json!({"type": "task_started", "turn_id": "b"})),
                ev(json!({"type": "item_completed", "turn_id": "a", "item": {}})),
                ev(json!({"type": "task_started", "turn_id": "c"})),
            ],
        );
        assert_eq!(index.len(), 3);
        assert_eq!(index.git().and_then(|g| g.branch).as_deref(), Some("main"));
        assert_eq!(
            index.spans(0),
            vec![(pos[1], pos[3]), (pos[4], pos[5])],
            "a's own lines and its late item"
        );
        assert_eq!(index.spans(2), vec![(pos[5], index.scanned_to())]);
        // Reverting b drops b and c, and a's late item that sat inside b.
        feed(
            &mut index,
            &[
                ev(json!({"type": "thread_rolled_back", "num_turns": 2, "before_turn_id": "b"})),
                ev(json!({"type": GIT_INFO_UPDATED, "git": {"commit_hash": "abc"}})),
            ],
        );
        assert_eq!(index.len(), 1);
        assert_eq!(index.position("b"), None);
        assert_eq!(index.spans(0), vec![(pos[1], pos[3])]);
        assert_eq!(index.git().and_then(|g| g.sha).as_deref(), Some("abc"));
        assert_eq!(index.git().and_then(|g| g.branch), None);
    }
}
