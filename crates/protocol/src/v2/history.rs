//! A thread's history, paged and edited: `thread/turns/list`, `thread/items/list`,
//! `thread/revert` (with our `restoreFiles` extension), `thread/delete`,
//! `thread/metadata/update` and `thread/inject_items`.
//!
//! Cursors are opaque strings; a client passes back what it was given.

use super::common::{SortDirection, TurnItemsView};
use super::item::ThreadItem;
use super::thread::Thread;
use super::turn::Turn;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTurnsListParams {
    pub thread_id: String,
    /// A `nextCursor` (continue in the same direction) or a `backwardsCursor` (with the
    /// opposite direction: starts at, and includes, the first turn of the page it came with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Newest first (`desc`) by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_direction: Option<SortDirection>,
    /// `summary` by default: each turn's user message and final answer only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_view: Option<TurnItemsView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadTurnsListResponse {
    pub data: Vec<Turn>,
    /// Null on the last page.
    pub next_cursor: Option<String>,
    /// For the opposite direction, starting at this page's first turn; null on an empty page.
    pub backwards_cursor: Option<String>,
}

/// An exclusive position inside the turn named by `turnId`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadItemsListAnchor {
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "ItemThreadItemsListAnchor")]
    Item { item_id: String },
}

/// Where an items page starts: an opaque cursor, or an item anchor (needs `turnId`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThreadItemsListCursor {
    Opaque(String),
    Anchor(ThreadItemsListAnchor),
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemsListParams {
    pub thread_id: String,
    /// Only this turn's items; every turn's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<ThreadItemsListCursor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
    /// Oldest first (`asc`) by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_direction: Option<SortDirection>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemEntry {
    pub turn_id: String,
    pub item: ThreadItem,
    /// Unix milliseconds, when recorded.
    pub started_at_ms: Option<i64>,
    /// Unix milliseconds, when recorded.
    pub completed_at_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadItemsListResponse {
    pub data: Vec<ThreadItemEntry>,
    pub next_cursor: Option<String>,
    pub backwards_cursor: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertParams {
    pub thread_id: String,
    /// This turn and every later one are removed.
    pub before_turn_id: String,
    /// Beyond the official runtime: also put the files the removed turns changed through
    /// `apply_patch` back as they were before those turns (when nothing changed them since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_files: Option<bool>,
}

/// A file `restoreFiles` could not put back, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FileNotRestored {
    pub path: PathBuf,
    pub reason: String,
}

/// What `restoreFiles` did, per file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FileRestoreReport {
    pub restored: Vec<PathBuf>,
    pub not_restored: Vec<FileNotRestored>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadRevertResponse {
    /// The thread after the revert; `turns` is empty (page them with `thread/turns/list`).
    pub thread: Thread,
    /// For `thread/turns/list` with `sortDirection: "desc"`: starts at the newest turn left.
    pub turns_backwards_cursor: Option<String>,
    /// For `thread/items/list` with `sortDirection: "desc"`: starts at the newest item left.
    pub items_backwards_cursor: Option<String>,
    /// Only with `restoreFiles: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_restore: Option<FileRestoreReport>,
}

same_shape! {
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    [ThreadDeleteParams, ThreadRevertedNotification, ThreadDeletedNotification] {
        pub thread_id: String,
    }
}

same_shape! {
    /// Acknowledgements: an empty object.
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
    [ThreadDeleteResponse, ThreadInjectItemsResponse] {}
}

/// A field that may be absent (leave it), `null` (clear it) or a value (set it).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Each field: omitted leaves the stored value, `null` clears it, a non-empty string sets it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadMetadataGitInfoUpdateParams {
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub sha: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub branch: Option<Option<String>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub origin_url: Option<Option<String>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadMetadataUpdateParams {
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_info: Option<ThreadMetadataGitInfoUpdateParams>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThreadMetadataUpdateResponse {
    pub thread: Thread,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadInjectItemsParams {
    pub thread_id: String,
    /// Raw Responses API items appended to the history the model sees next.
    pub items: Vec<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_cursor_is_a_string_or_an_item_anchor() {
        let p: ThreadItemsListParams = serde_json::from_value(
            json!({"threadId": "t", "turnId": "u", "cursor": {"type": "item", "itemId": "i"}}),
        )
        .unwrap();
        assert_eq!(
            p.cursor,
            Some(ThreadItemsListCursor::Anchor(ThreadItemsListAnchor::Item {
                item_id: "i".into()
            }))
        );
        let p: ThreadItemsListParams =
            serde_json::from_value(json!({"threadId": "t", "cursor": "opaque"})).unwrap();
        assert_eq!(
            p.cursor,
            Some(ThreadItemsListCursor::Opaque("opaque".into()))
        );
    }

    #[test]
    fn git_info_fields_tell_omitted_from_null() {
        let p: ThreadMetadataGitInfoUpdateParams =
            serde_json::from_value(json!({"branch": null, "sha": "abc"})).unwrap();
        assert_eq!(p.branch, Some(None));
        assert_eq!(p.sha, Some(Some("abc".into())));
        assert_eq!(p.origin_url, None);
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"branch": null, "sha": "abc"})
        );
    }
}
