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
        // The live configuration as of now, with the thread's project layers.
        let resolved = self
            .inner
            .config
            .settings_for_thread(&loaded.record.cwd, &toml::Table::new())?;
        let mut settings = ThreadSettings::from_config(&resolved, loaded.record.cwd.clone())?;
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
        let project_docs =
            crate::prompt::project_docs(&settings.cwd, resolved.project_doc_max_bytes);
        let thread = LoadedThread::new(loaded.record, settings, false);
        {
            let mut st = thread.state.lock().await;
            st.history = rebuilt.history;
            st.usage = rebuilt.usage.unwrap_or_default();
            st.project_docs = project_docs;
        }
        // Another request may have loaded it meanwhile; the first one in the table wins.
        Ok(self.inner.threads.insert_or_get(thread))
    }
}
