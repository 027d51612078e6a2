//! Paged history: `thread/turns/list` (newest first) and `thread/items/list` (oldest first).
//! A page reads only its turns' lines, found through the thread's [`TurnIndex`], and stays
//! under `app_server.max_response_bytes`: it ends early rather than grow past it.

use super::Runtime;
use crate::error::CoreError;
use crate::page_cursor::PageCursor;
use crate::thread::mark_active;
use crate::turn_index::TurnIndex;
use codex_protocol::v2::*;
use codex_store::RolloutLine;
use serde::Serialize;
use std::collections::HashMap;
use tokio::sync::OwnedMutexGuard;

const DEFAULT_TURNS: usize = 25;
const DEFAULT_ITEMS: usize = 100;
const MAX_PAGE: usize = 1000;
/// Room kept in a response frame for its envelope and cursors.
const ENVELOPE_SLACK: usize = 4 * 1024;
/// Turns read from the store at once while walking for items.
const READ_BATCH: usize = 16;

/// A turn rebuilt from its lines, with each item's recorded times.
pub(super) struct BuiltTurn {
    pub position: usize,
    pub turn: Turn,
    /// Item id -> (started, completed) in Unix ms, from `item_completed` lines.
    times: HashMap<String, (Option<i64>, Option<i64>)>,
}

impl BuiltTurn {
    /// The turn's items as entries, oldest first.
    pub fn entries(&self) -> Vec<ThreadItemEntry> {
        self.turn
            .items
            .iter()
            .map(|item| {
                let (started, completed) = self.times.get(item.id()).copied().unwrap_or_default();
                ThreadItemEntry {
                    turn_id: self.turn.id.clone(),
                    item: item.clone(),
                    started_at_ms: started,
                    completed_at_ms: completed,
                }
            })
            .collect()
    }
}

impl Runtime {
    /// `thread/turns/list`.
    pub async fn list_turns(
        &self,
        p: ThreadTurnsListParams,
    ) -> Result<ThreadTurnsListResponse, CoreError> {
        if self.is_ephemeral(&p.thread_id) {
            return Ok(ThreadTurnsListResponse {
                data: Vec::new(),
                next_cursor: None,
                backwards_cursor: None,
            });
        }
        let desc = p.sort_direction != Some(SortDirection::Asc);
        let view = p.items_view.unwrap_or(TurnItemsView::Summary);
        let limit = page_limit(p.limit, DEFAULT_TURNS);
        // Before the index lock: a revert takes the thread's state lock, then the index's.
        let active = self.active_turn_id(&p.thread_id).await;
        let index = self.turn_index(&p.thread_id).await?;
        let anchor = match p.cursor.as_deref().map(PageCursor::decode).transpose()? {
            None => None,
            Some(PageCursor::Turns {
                turn_id,
                include_anchor,
            }) => Some((turn_position(&index, &turn_id)?, include_anchor)),
            Some(PageCursor::Items { .. }) => {
                return Err(CoreError::InvalidRequest(format!(
                    "invalid cursor: {} is an items cursor",
                    p.cursor.unwrap_or_default()
                )))
            }
        };
        let mut positions = walk(index.len(), desc, anchor);
        let more = positions.len() > limit;
        positions.truncate(limit);
        let built = self
            .read_turns(&p.thread_id, &index, &positions, active)
            .await?;
        drop(index);
        let budget = self.page_budget();
        let mut used = 0;
        let mut data = Vec::with_capacity(built.len());
        for b in built {
            let turn = with_view(b.turn, view);
            let size = encoded_len(&turn);
            if used + size > budget {
                if data.is_empty() {
                    return Err(CoreError::InvalidRequest(format!(
                        "turn {} is {size} bytes, over app_server.max_response_bytes; list it \
                         with itemsView \"notLoaded\" and page its items with thread/items/list",
                        turn.id
                    )));
                }
                break;
            }
            used += size;
            data.push(turn);
        }
        let cut_short = data.len() < positions.len();
        let next_cursor = data.last().filter(|_| more || cut_short).map(|t| {
            PageCursor::Turns {
                turn_id: t.id.clone(),
                include_anchor: false,
            }
            .encode()
        });
        let backwards_cursor = data.first().map(|t| {
            PageCursor::Turns {
                turn_id: t.id.clone(),
                include_anchor: true,
            }
            .encode()
        });
        Ok(ThreadTurnsListResponse {
            data,
            next_cursor,
            backwards_cursor,
        })
    }

    /// `thread/items/list`.
    pub async fn list_items(
        &self,
        p: ThreadItemsListParams,
    ) -> Result<ThreadItemsListResponse, CoreError> {
        let empty = ThreadItemsListResponse {
            data: Vec::new(),
            next_cursor: None,
            backwards_cursor: None,
        };
        if let Some(ThreadItemsListCursor::Anchor(_)) = &p.cursor {
            if p.turn_id.as_deref().unwrap_or_default().is_empty() {
                return Err(CoreError::InvalidParams(
                    "turnId is required when cursor is an item anchor".into(),
                ));
            }
        }
        if self.is_ephemeral(&p.thread_id) {
            return Ok(empty);
        }
        let desc = p.sort_direction == Some(SortDirection::Desc);
        let limit = page_limit(p.limit, DEFAULT_ITEMS);
        let active = self.active_turn_id(&p.thread_id).await;
        let index = self.turn_index(&p.thread_id).await?;
        let only_turn = p
            .turn_id
            .as_deref()
            .map(|t| turn_position(&index, t))
            .transpose()?;
        // The page starts in this turn, at this item (excluded unless `include`).
        let start: Option<(usize, String, bool)> = match p.cursor {
            None => None,
            Some(ThreadItemsListCursor::Anchor(ThreadItemsListAnchor::Item { item_id })) => {
                only_turn.map(|t| (t, item_id, false))
            }
            Some(ThreadItemsListCursor::Opaque(text)) => match PageCursor::decode(&text)? {
                PageCursor::Items {
                    turn_id,
                    item_id,
                    include_anchor,
                } => {
                    let t = turn_position(&index, &turn_id)?;
                    if only_turn.is_some_and(|only| only != t) {
                        return Err(CoreError::InvalidRequest(format!(
                            "invalid cursor: {text} belongs to another turn"
                        )));
                    }
                    Some((t, item_id, include_anchor))
                }
                PageCursor::Turns { .. } => {
                    return Err(CoreError::InvalidRequest(format!(
                        "invalid cursor: {text} is a turns cursor"
                    )))
                }
            },
        };
        let turns: Vec<usize> = match only_turn {
            Some(t) => vec![t],
            None => {
                let from = start.as_ref().map(|(t, _, _)| (*t, true));
                walk(index.len(), desc, from)
            }
        };
        let mut entries = Vec::new();
        'walk: for batch in turns.chunks(READ_BATCH) {
            let built_turns = self
                .read_turns(&p.thread_id, &index, batch, active.clone())
                .await?;
            for built in built_turns {
                let mut items = built.entries();
                if desc {
                    items.reverse();
                }
                if let Some((t, item_id, include)) = &start {
                    if built.position == *t {
                        let k = items
                            .iter()
                            .position(|e| e.item.id() == item_id)
                            .ok_or_else(|| {
                                CoreError::InvalidRequest(format!(
                                    "item not found: {item_id} in turn {}",
                                    built.turn.id
                                ))
                            })?;
                        items.drain(..k + usize::from(!include));
                    }
                }
                for entry in items {
                    entries.push(entry);
                    if entries.len() > limit {
                        break 'walk;
                    }
                }
            }
        }
        drop(index);
        let more = entries.len() > limit;
        entries.truncate(limit);
        let wanted = entries.len();
        let budget = self.page_budget();
        let mut used = 0;
        let mut data = Vec::with_capacity(wanted);
        for entry in entries {
            let size = encoded_len(&entry);
            if used + size > budget {
                if data.is_empty() {
                    return Err(CoreError::InvalidRequest(format!(
                        "item {} is {size} bytes, over app_server.max_response_bytes",
                        entry.item.id()
                    )));
                }
                break;
            }
            used += size;
            data.push(entry);
        }
        let cursor = |e: &ThreadItemEntry, include_anchor| {
            PageCursor::Items {
                turn_id: e.turn_id.clone(),
                item_id: e.item.id().to_string(),
                include_anchor,
            }
            .encode()
        };
        let next_cursor = data
            .last()
            .filter(|_| more || data.len() < wanted)
            .map(|e| cursor(e, false));
        let backwards_cursor = data.first().map(|e| cursor(e, true));
        Ok(ThreadItemsListResponse {
            data,
            next_cursor,
            backwards_cursor,
        })
    }

    /// The thread's turn index, brought up to date with its rollout (only what was appended
    /// since the last page is read).
    pub(super) async fn turn_index(
        &self,
        thread_id: &str,
    ) -> Result<OwnedMutexGuard<TurnIndex>, CoreError> {
        let cell = self.inner.turn_indexes.cell(thread_id);
        let mut guard = cell.lock_owned().await;
        let from = guard.scanned_to();
        let store = &self.inner.store;
        let observe = |index: &mut TurnIndex, pos: u64, next: u64, line: &[u8]| {
            index.observe(pos, next, line)
        };
        let state = std::mem::take(&mut *guard);
        let (mut state, end) = store.scan_lines(thread_id, from, state, observe).await?;
        if end.shrunk {
            // The file was replaced: start over.
            let fresh = TurnIndex::default();
            let (fresh, end) = store.scan_lines(thread_id, 0, fresh, observe).await?;
            state = fresh;
            state.scanned(end.end);
        } else {
            state.scanned(end.end);
        }
        *guard = state;
        Ok(guard)
    }

    /// The turns at `positions` rebuilt from their lines (one store read), in that order;
    /// the `active` (running) turn shows as in progress.
    pub(super) async fn read_turns(
        &self,
        thread_id: &str,
        index: &TurnIndex,
        positions: &[usize],
        active: Option<String>,
    ) -> Result<Vec<BuiltTurn>, CoreError> {
        let mut spans = Vec::new();
        let mut counts = Vec::with_capacity(positions.len());
        for &position in positions {
            let turn_spans = index.spans(position);
            counts.push(turn_spans.len());
            spans.extend(turn_spans);
        }
        let mut chunks = self
            .inner
            .store
            .read_spans(thread_id, spans)
            .await?
            .into_iter();
        let mut out = Vec::with_capacity(positions.len());
        for (&position, count) in positions.iter().zip(counts) {
            let lines: Vec<RolloutLine> = chunks.by_ref().take(count).flatten().collect();
            let Some(mut turn) = crate::history::rebuild(&lines).turns.into_iter().next() else {
                continue;
            };
            mark_active(std::slice::from_mut(&mut turn), active.as_deref());
            out.push(BuiltTurn {
                position,
                turn,
                times: item_times(&lines),
            });
        }
        Ok(out)
    }

    fn is_ephemeral(&self, thread_id: &str) -> bool {
        self.inner
            .threads
            .get(thread_id)
            .is_some_and(|t| t.ephemeral)
    }

    /// The running turn of a loaded thread. Never called with the thread's index locked.
    pub(super) async fn active_turn_id(&self, thread_id: &str) -> Option<String> {
        let thread = self.inner.threads.get(thread_id)?;
        let st = thread.state.lock().await;
        st.active.as_ref().map(|a| a.turn_id.clone())
    }

    /// Bytes a page's data may take.
    fn page_budget(&self) -> usize {
        self.max_response_bytes().saturating_sub(ENVELOPE_SLACK)
    }
}

fn turn_position(index: &TurnIndex, turn_id: &str) -> Result<usize, CoreError> {
    index
        .position(turn_id)
        .ok_or_else(|| CoreError::InvalidRequest(format!("turn not found: {turn_id}")))
}

fn page_limit(limit: Option<u32>, default: usize) -> usize {
    limit
        .map(|l| l as usize)
        .unwrap_or(default)
        .clamp(1, MAX_PAGE)
}

/// Positions of up to `MAX_PAGE + 1` turns in page order, starting at `anchor` (included when
/// its flag says so) or at the newest (`desc`) or oldest turn.
fn walk(len: usize, desc: bool, anchor: Option<(usize, bool)>) -> Vec<usize> {
    let take = MAX_PAGE + 1;
    if desc {
        let first = match anchor {
            None => len.checked_sub(1),
            Some((i, true)) => Some(i),
            Some((i, false)) => i.checked_sub(1),
        };
        match first {
            Some(first) => (0..=first).rev().take(take).collect(),
            None => Vec::new(),
        }
    } else {
        let first = match anchor {
            None => 0,
            Some((i, true)) => i,
            Some((i, false)) => i + 1,
        };
        (first..len).take(take).collect()
    }
}

/// The turn as the view asks: `summary` keeps its first user message and its last agent
/// message (the final answer), `notLoaded` no items.
fn with_view(mut turn: Turn, view: TurnItemsView) -> Turn {
    match view {
        TurnItemsView::Full => {}
        TurnItemsView::NotLoaded => turn.items.clear(),
        TurnItemsView::Summary => {
            let user = turn
                .items
                .iter()
                .position(|i| matches!(i, ThreadItem::UserMessage { .. }));
            let answer = turn
                .items
                .iter()
                .rposition(|i| matches!(i, ThreadItem::AgentMessage { .. }));
            let items = std::mem::take(&mut turn.items);
            turn.items = items
                .into_iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) == user || Some(*i) == answer)
                .map(|(_, item)| item)
                .collect();
        }
    }
    turn.items_view = view;
    turn
}

fn item_times(lines: &[RolloutLine]) -> HashMap<String, (Option<i64>, Option<i64>)> {
    lines
        .iter()
        .filter(|l| l.kind == "event_msg" && l.payload["type"] == "item_completed")
        .filter_map(|l| {
            let p = &l.payload;
            let id = p["item"]["id"].as_str()?;
            Some((
                id.to_string(),
                (p["started_at_ms"].as_i64(), p["completed_at_ms"].as_i64()),
            ))
        })
        .collect()
}

/// Bytes `value` takes as JSON, counted without building the text.
pub(super) fn encoded_len<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        // Not encodable: it will fail when answered; count it as too large to send.
        Err(_) => usize::MAX / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_both_ways_from_an_anchor() {
        assert_eq!(walk(4, true, None), vec![3, 2, 1, 0]);
        assert_eq!(walk(4, true, Some((2, false))), vec![1, 0]);
        assert_eq!(walk(4, true, Some((2, true))), vec![2, 1, 0]);
        assert_eq!(walk(4, true, Some((0, false))), Vec::<usize>::new());
        assert_eq!(walk(4, false, Some((2, false))), vec![3]);
        assert_eq!(walk(4, false, Some((2, true))), vec![2, 3]);
        assert_eq!(walk(0, true, None), Vec::<usize>::new());
    }
}
