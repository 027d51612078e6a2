//! Configuration operations: `config/read`, `config/value/write`, `config/batchWrite` and
//! `configRequirements/read`. They read and write files, so each runs on the blocking pool; a
//! successful write makes the new configuration current, and threads started afterwards
//! resolve their settings from it (threads already open keep theirs).

use super::Runtime;
use crate::config::{ConfigHandle, ConfigServiceError};
use crate::error::CoreError;
use codex_protocol::v2::{
    ConfigBatchWriteParams, ConfigReadParams, ConfigReadResponse, ConfigRequirementsReadResponse,
    ConfigValueWriteParams, ConfigWriteResponse,
};

impl Runtime {
    /// `config/read`: the layers as they are on disk now, merged.
    pub async fn read_config(&self, p: ConfigReadParams) -> Result<ConfigReadResponse, CoreError> {
        self.config_op(move |config| config.read(p)).await
    }

    /// `config/value/write`.
    pub async fn write_config_value(
        &self,
        p: ConfigValueWriteParams,
    ) -> Result<ConfigWriteResponse, CoreError> {
        let written = self.config_op(move |config| config.write_value(p)).await?;
        self.refresh_tools_config();
        Ok(written)
    }

    /// `config/batchWrite`: every edit or none.
    pub async fn write_config_batch(
        &self,
        p: ConfigBatchWriteParams,
    ) -> Result<ConfigWriteResponse, CoreError> {
        let written = self.config_op(move |config| config.batch_write(p)).await?;
        self.refresh_tools_config();
        Ok(written)
    }

    /// New threads start the MCP servers the configuration names now. A written table the
    /// MCP client cannot use keeps the previous servers, and says why in the log (the write
    /// itself was valid TOML and is on disk).
    fn refresh_tools_config(&self) {
        if let Err(e) = self
            .inner
            .tools_config
            .replace(&self.inner.config.config().raw)
        {
            tracing::warn!("MCP servers of the written configuration not applied: {e}");
        }
    }

    /// `configRequirements/read`.
    pub async fn read_config_requirements(
        &self,
    ) -> Result<ConfigRequirementsReadResponse, CoreError> {
        self.config_op(|config| config.read_requirements()).await
    }

    async fn config_op<T, F>(&self, op: F) -> Result<T, CoreError>
    where
        T: Send + 'static,
        F: FnOnce(&ConfigHandle) -> Result<T, ConfigServiceError> + Send + 'static,
    {
        let config = self.inner.config.clone();
        tokio::task::spawn_blocking(move || op(&config))
            .await
            .map_err(|e| CoreError::Internal(format!("config operation stopped: {e}")))?
            .map_err(CoreError::from)
    }
}
