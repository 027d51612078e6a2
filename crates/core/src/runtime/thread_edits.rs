//! Edits of a stored thread besides turns: `thread/delete`, `thread/metadata/update` (git
//! metadata, kept in the rollout as `thread_git_info_updated` events and read back through the
//! turn index) and `thread/inject_items` (items appended to the model-facing history).

use super::Runtime;
use crate::error::CoreError;
use crate::reply::Reply;
use crate::thread::wire_thread;
use crate::turn_index::{RolloutGit, GIT_INFO_UPDATED};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use codex_store::RolloutEntry;
use serde_json::{json, Value};

impl Runtime {
    /// `thread/delete`: a loaded thread is announced `notLoaded` first; `thread/deleted`
    /// follows the answer.
    pub async fn delete_thread(&self, p: ThreadDeleteParams, reply: Reply<ThreadDeleteResponse>) {
        let id = p.thread_id;
        let result = self.delete(&id).await;
        let sink = self.inner.sink.for_thread(&id);
        if let Ok(true) = result {
            sink.notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: id.clone(),
                status: ThreadStatus::NotLoaded,
            })
            .await;
        }
        if reply.send(result.map(|_| ThreadDeleteResponse {})).await {
            sink.notify::<m::ThreadDeleted>(&ThreadDeletedNotification { thread_id: id })
                .await;
        }
    }

    /// Deletes the thread; true when it was loaded.
    async fn delete(&self, id: &str) -> Result<bool, CoreError> {
        let Some(thread) = self.inner.threads.get(id) else {
            self.inner.store.delete(id).await?;
            self.inner.turn_indexes.forget(id);
            return Ok(false);
        };
        // Held while deleting, so no turn starts on a thread being removed.
        let st = thread.state.lock().await;
        if st.active.is_some() {
            return Err(CoreError::InvalidRequest(format!(
                "thread {id} has a running turn; interrupt it before deleting"
            )));
        }
        if !thread.ephemeral {
            self.inner.store.delete(id).await?;
        }
        self.inner.threads.remove(id);
        self.inner.turn_indexes.forget(id);
        drop(st);
        Ok(true)
    }

    /// `thread/metadata/update`: patches the thread's git metadata.
    pub async fn update_thread_metadata(
        &self,
        p: ThreadMetadataUpdateParams,
    ) -> Result<ThreadMetadataUpdateResponse, CoreError> {
        let patch = p
            .git_info
            .filter(|g| g.sha.is_some() || g.branch.is_some() || g.origin_url.is_some())
            .ok_or_else(|| {
                CoreError::InvalidRequest(
                    "thread metadata update must include at least one field".into(),
                )
            })?;
        for (name, value) in [
            ("sha", &patch.sha),
            ("branch", &patch.branch),
            ("originUrl", &patch.origin_url),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.as_ref().is_some_and(|s| s.trim().is_empty()))
            {
                return Err(CoreError::InvalidRequest(format!(
                    "gitInfo.{name} must not be empty"
                )));
            }
        }
        let id = p.thread_id.as_str();
        self.require_persisted(id)?;
        // The index lock is held across read-modify-append: concurrent patches do not lose
        // each other's fields.
        let index = self.turn_index(id).await?;
        let mut git = index.git().unwrap_or_default();
        for (field, value) in [
            (&mut git.sha, patch.sha),
            (&mut git.branch, patch.branch),
            (&mut git.origin_url, patch.origin_url),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        let event = json!({"type": GIT_INFO_UPDATED, "git": RolloutGit::from(&git)});
        self.inner
            .store
            .append(id, vec![RolloutEntry::new("event_msg", event)])
            .await?;
        drop(index);
        let record = self
            .inner
            .store
            .get(id)
            .await?
            .ok_or_else(|| CoreError::ThreadNotFound(id.to_string()))?;
        let status = match self.inner.threads.get(id) {
            Some(t) => t.status.get(),
            None => ThreadStatus::NotLoaded,
        };
        let mut thread = wire_thread(&record, status, Vec::new(), false);
        thread.git_info = Some(git).filter(|g| *g != GitInfo::default());
        Ok(ThreadMetadataUpdateResponse { thread })
    }

    /// `thread/inject_items`: raw Responses items appended to the history the model sees next.
    pub async fn inject_items(
        &self,
        p: ThreadInjectItemsParams,
    ) -> Result<ThreadInjectItemsResponse, CoreError> {
        if p.items.is_empty() {
            return Err(CoreError::InvalidRequest("items must not be empty".into()));
        }
        for (i, item) in p.items.iter().enumerate() {
            check_response_item(item).map_err(|e| {
                CoreError::InvalidRequest(format!("items[{i}] is not a valid response item: {e}"))
            })?;
        }
        let thread = self.load(&p.thread_id).await?;
        let mut st = thread.state.lock().await;
        if st.active.is_some() {
            return Err(CoreError::InvalidRequest(format!(
                "thread {} has a running turn; inject items while it is idle",
                p.thread_id
            )));
        }
        if !thread.ephemeral {
            let mut entries = vec![crate::injected::marker(p.items.len())];
            entries.extend(p.items.iter().map(crate::rollout::response_item));
            self.inner.store.append(&p.thread_id, entries).await?;
        }
        st.history.extend(p.items);
        Ok(ThreadInjectItemsResponse {})
    }

    /// The thread's git metadata, from its rollout (none for a thread without any).
    pub(super) async fn git_info(&self, id: &str) -> Option<GitInfo> {
        self.turn_index(id).await.ok()?.git()
    }

    /// `thread` with its stored git metadata (ephemeral threads have none).
    pub(super) async fn with_git(&self, mut thread: Thread) -> Thread {
        if !thread.ephemeral {
            thread.git_info = self.git_info(&thread.id).await;
        }
        thread
    }
}

/// A required field and the JSON type it must have.
type Field = (&'static str, fn(&Value) -> bool);

/// The shape checks of a Responses API input item: a `type`, and the fields its type needs.
fn check_response_item(item: &Value) -> Result<(), String> {
    let Some(obj) = item.as_object() else {
        return Err("expected an object".into());
    };
    let kind = match obj.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => return Err("`type` must be a string".into()),
        None => return Err("missing field `type`".into()),
    };
    let required: &[Field] = match kind {
        "message" => &[("role", Value::is_string), ("content", Value::is_array)],
        "function_call" => &[
            ("name", Value::is_string),
            ("arguments", Value::is_string),
            ("call_id", Value::is_string),
        ],
        "custom_tool_call" => &[
            ("name", Value::is_string),
            ("input", Value::is_string),
            ("call_id", Value::is_string),
        ],
        "function_call_output" | "custom_tool_call_output" => &[("call_id", Value::is_string)],
        "reasoning" => &[("summary", Value::is_array)],
        _ => &[],
    };
    for (field, ok) in required {
        match obj.get(*field) {
            None => return Err(format!("missing field `{field}`")),
            Some(v) if !ok(v) => return Err(format!("`{field}` has the wrong type")),
            Some(_) => {}
        }
    }
    if matches!(kind, "function_call_output" | "custom_tool_call_output")
        && !obj.contains_key("output")
    {
        return Err("missing field `output`".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_items_need_a_type_and_their_fields() {
        let ok = json!({"type": "message", "role": "user", "content": []});
        assert_eq!(check_response_item(&ok), Ok(()));
        assert_eq!(
            check_response_item(&json!({"foo": 1})),
            Err("missing field `type`".to_string())
        );
        assert_eq!(
            check_response_item(&json!({"type": "message", "role": "user"})),
            Err("missing field `content`".to_string())
        );
        assert_eq!(
            check_response_item(&json!({"type": "function_call_output", "call_id": "c"})),
            Err("missing field `output`".to_string())
        );
        assert_eq!(
            check_response_item(&json!({"type": "web_search_call"})),
            Ok(())
        );
    }
}
