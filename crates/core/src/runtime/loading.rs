//! Loading a thread from its rollout: history, usage, and the settings it last ran with.

use super::Runtime;
use crate::error::CoreError;
use crate::history;
use crate::settings::{apply_turn_context, ThreadSettings};
use crate::thread::LoadedThread;
use std::sync::Arc;

impl Runtime {
    /// The loaded thread `id`, loading it from disk when needed.
    pub(super) async fn load(&self, id: &str) -> Result<Arc<LoadedThread>, CoreError> {
        if let Some(t) = self.inner.threads.get(id) {
            return Ok(t);
        }
        let loaded = self.inner.store.load(id).await?;
        let rebuilt = history::rebuild(&loaded.lines);
        let base = &self.inner.base;
        let mut settings = ThreadSettings::from_config(base, loaded.record.cwd.clone())?;
        settings.provider_id = loaded.record.model_provider.clone();
        if let Some(model) = rebuilt.last_model.clone().or(loaded.record.model.clone()) {
            settings.model = model;
        }
        // Instructions the thread was started with outlive restarts.
        if let Some(text) = rebuilt.base_instructions.clone() {
            settings.base_instructions = Some(text);
        }
        if let Some(text) = rebuilt.developer_instructions.clone() {
            settings.developer_instructions = Some(text);
        }
        if let Some(ctx) = &rebuilt.last_turn_context {
            apply_turn_context(&mut settings, ctx);
        }
        let project_docs = crate::prompt::project_docs(&settings.cwd, base.project_doc_max_bytes);
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
}
