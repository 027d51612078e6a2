//! The marker before items a client injected (`thread/inject_items`): the next `count`
//! `response_item` lines are the client's and stay in the history on reload, even those that
//! look like the context messages a reader otherwise drops (developer messages, for one).
//! Other readers (the official runtime) skip the unknown event and keep the items anyway.

use codex_store::RolloutEntry;
use serde_json::{json, Value};

const ITEMS_INJECTED: &str = "items_injected";

pub fn marker(count: usize) -> RolloutEntry {
    RolloutEntry::new("event_msg", json!({"type": ITEMS_INJECTED, "count": count}))
}

/// How many injected items follow, when `payload` (of an `event_msg`) is the marker.
pub fn count(payload: &Value) -> Option<u64> {
    (payload["type"] == ITEMS_INJECTED).then(|| payload["count"].as_u64().unwrap_or(0))
}
