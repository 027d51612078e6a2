//! `thread/revert`: removes a turn and every later one, for good and under the same thread id.
//! The rollout gets a marker (`rollback.rs`), never a rewrite, so the official runtime reads the
//! reverted thread the same way; a loaded thread's history is rebuilt from the live lines, so
//! the next model request no longer carries the removed turns.
//!
//! With `restoreFiles: true` (ours), files the removed turns changed through `apply_patch`
//! are put back as they were before those turns (`checkpoint.rs`), each only when nothing
//! changed it since; the answer says which files were restored and which were not, and why.

use super::Runtime;
use crate::checkpoint::RestorePlan;
use crate::error::CoreError;
use crate::page_cursor::PageCursor;
use crate::reply::Reply;
use crate::thread::wire_thread;
use crate::{history, rollback};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

impl Runtime {
    /// `thread/revert`; `thread/reverted` follows the answer.
    pub async fn revert_thread(&self, p: ThreadRevertParams, reply: Reply<ThreadRevertResponse>) {
        let result = self.revert(&p).await;
        if reply.send(result).await {
            self.inner
                .sink
                .for_thread(&p.thread_id)
                .notify::<m::ThreadReverted>(&ThreadRevertedNotification {
                    thread_id: p.thread_id.clone(),
                })
                .await;
        }
    }

    async fn revert(&self, p: &ThreadRevertParams) -> Result<ThreadRevertResponse, CoreError> {
        let id = p.thread_id.as_str();
        self.require_persisted(id)?;
        let thread = self.load(id).await?;
        // Held to the end of the rewrite: no turn starts on a half-reverted thread.
        let mut st = thread.state.lock().await;
        if st.active.is_some() {
            return Err(CoreError::InvalidRequest(format!(
                "thread {id} has a running turn; interrupt it before reverting"
            )));
        }
        let (removed, tail) = {
            let index = self.turn_index(id).await?;
            let position = index.position(&p.before_turn_id).ok_or_else(|| {
                CoreError::InvalidRequest(format!("turn not found: {}", p.before_turn_id))
            })?;
            (index.len() - position, index.tail_from(position))
        };
        let plan = match (p.restore_files, tail) {
            (Some(true), Some(tail)) => {
                let lines = self.inner.store.read_spans(id, vec![tail]).await?;
                Some(RestorePlan::from_lines(&lines.concat()))
            }
            _ => None,
        };
        self.inner
            .store
            .append(id, vec![rollback::marker(&p.before_turn_id, removed)])
            .await?;
        let loaded = self.inner.store.load(id).await?;
        let rebuilt = history::rebuild(&loaded.lines);
        st.history = rebuilt.history;
        st.usage = rebuilt.usage.unwrap_or_default();
        st.record = loaded.record.clone();
        drop(st);
        let file_restore = match plan {
            Some(plan) => Some(
                tokio::task::spawn_blocking(move || plan.restore())
                    .await
                    .map_err(|e| CoreError::Internal(format!("file restore failed: {e}")))?,
            ),
            None => None,
        };
        let (turns_backwards_cursor, items_backwards_cursor) = self.newest_cursors(id).await?;
        let mut wire = wire_thread(&loaded.record, thread.status.get(), Vec::new(), false);
        wire.git_info = self.git_info(id).await;
        Ok(ThreadRevertResponse {
            thread: wire,
            turns_backwards_cursor,
            items_backwards_cursor,
            file_restore,
        })
    }

    /// Cursors that page the thread backwards from its newest turn and its newest item, both
    /// included.
    async fn newest_cursors(
        &self,
        id: &str,
    ) -> Result<(Option<String>, Option<String>), CoreError> {
        let active = self.active_turn_id(id).await;
        let index = self.turn_index(id).await?;
        let Some(newest) = index.len().checked_sub(1) else {
            return Ok((None, None));
        };
        let built = self.read_turns(id, &index, &[newest], active).await?;
        let turns = built.first().map(|b| {
            PageCursor::Turns {
                turn_id: b.turn.id.clone(),
                include_anchor: true,
            }
            .encode()
        });
        let items = built.first().and_then(|b| {
            b.turn.items.last().map(|item| {
                PageCursor::Items {
                    turn_id: b.turn.id.clone(),
                    item_id: item.id().to_string(),
                    include_anchor: true,
                }
                .encode()
            })
        });
        Ok((turns, items))
    }
}
