//! Loading a thread from the store: history, usage, and the settings it last ran with; and
//! re-reading a loaded thread that another server wrote to since.

use super::Runtime;
use crate::error::CoreError;
use crate::history::{self, Rebuilt};
use crate::settings::{apply_turn_context, ThreadSettings};
use crate::thread::{LoadedThread, ThreadState};
use codex_store::ThreadRecord;
use std::sync::Arc;

impl Runtime {
    /// The loaded thread `id`, loading it from the store when needed.
    pub(super) async fn load(&self, id: &str) -> Result<Arc<LoadedThread>, CoreError> {
        if let Some(t) = self.inner.threads.get(id) {
            return Ok(t);
        }
        let loaded = self.inner.store.load(id).await?;
        let rebuilt = history::rebuild(&loaded.lines);
        // The live configuration as of now, with the thread's project layers.
        let resolved = self
            .inner
            .config
            .settings_for_thread(&loaded.record.cwd, &toml::Table::new())?;
        let mut settings = ThreadSettings::from_config(&resolved, loaded.record.cwd.clone())?;
        settings.provider_id = loaded.record.model_provider.clone();
        apply_stored_settings(&mut settings, &rebuilt, &loaded.record);
        let project_docs =
            crate::prompt::project_docs(&settings.cwd, resolved.project_doc_max_bytes);
        let tools_config = self.inner.tools_config.resolve(&toml::Table::new())?;
        let policy = settings.approval_policy.clone();
        let thread = LoadedThread::new(loaded.record, settings, false);
        {
            let mut st = thread.state.lock().await;
            st.history = rebuilt.history;
            st.usage = rebuilt.usage.unwrap_or_default();
            st.project_docs = project_docs;
        }
        // The client-defined tools it was started with outlive restarts.
        if let Some(recorded) = &rebuilt.dynamic_tools {
            let specs = super::client_tools::from_rollout(id, recorded);
            super::client_tools::register(&thread, specs, tools_config.dynamic_timeout);
        }
        // Another request may have loaded it meanwhile; the first one in the table wins, and
        // only that one starts MCP servers.
        let loaded = self.inner.threads.insert_or_get(thread.clone());
        if Arc::ptr_eq(&loaded, &thread) {
            self.attach_mcp(&thread, tools_config.mcp, toml::Table::new(), policy);
            self.start_mcp(id);
        }
        Ok(loaded)
    }

    /// Re-reads a loaded thread into `st` (its state, locked by the caller): the history the
    /// model sees, usage, the record, and the settings its last turn ran with. For a thread
    /// another server ran turns on since this one last held its lease.
    pub(super) async fn reread(&self, id: &str, st: &mut ThreadState) -> Result<(), CoreError> {
        let loaded = self.inner.store.load(id).await?;
        let rebuilt = history::rebuild(&loaded.lines);
        let cwd = st.settings.cwd.clone();
        apply_stored_settings(&mut st.settings, &rebuilt, &loaded.record);
        if st.settings.cwd != cwd {
            st.project_docs = crate::prompt::project_docs(
                &st.settings.cwd,
                st.settings.resolved.project_doc_max_bytes,
            );
        }
        st.history = rebuilt.history;
        st.usage = rebuilt.usage.unwrap_or_default();
        st.record = loaded.record;
        Ok(())
    }
}

/// What the stored lines say about a thread's settings: its model, the instructions it was
/// started with (they outlive restarts) and the context of its last turn.
fn apply_stored_settings(settings: &mut ThreadSettings, rebuilt: &Rebuilt, record: &ThreadRecord) {
    if let Some(model) = rebuilt.last_model.clone().or(record.model.clone()) {
        settings.model = model;
    }
    if let Some(text) = rebuilt.base_instructions.clone() {
        settings.base_instructions = Some(text);
    }
    if let Some(text) = rebuilt.developer_instructions.clone() {
        settings.developer_instructions = Some(text);
    }
    if let Some(ctx) = &rebuilt.last_turn_context {
        apply_turn_context(settings, ctx);
    }
}
