//! MCP servers at the runtime level: each thread's servers, from the thread's effective
//! configuration (`config.toml` and `-c`, then the thread's own `config` map with dotted keys
//! such as `mcp_servers.time.command`); the client API methods (`mcpServerStatus/list`,
//! `mcpServer/tool/call`, `mcpServer/resource/read`, `config/mcpServer/reload`); and stopping
//! every server at shutdown.
//!
//! A thread with servers gets an [`McpManager`] when it is created or loaded. Its servers
//! start in the background (after `thread/started` for a new thread), so neither `initialize`
//! nor `thread/start` waits for them, and their progress goes to the client as
//! `mcpServer/startupStatus/updated`. Each model request waits for them within their grace
//! (`tools::before_model_request`). A thread without servers costs nothing here. What a
//! thread's configuration says is `tools_config`.

use super::Runtime;
use crate::error::CoreError;
use crate::thread::LoadedThread;
use crate::tools::{ElicitationRoute, ThreadMcp};
use codex_mcp::{DeclineElicitations, McpConfig, McpError, McpManager, McpStartupUpdate};
use codex_protocol::methods as m;
use codex_protocol::v2::{
    AskForApproval, ListMcpServerStatusParams, ListMcpServerStatusResponse, McpResourceReadParams,
    McpResourceReadResponse, McpServerRefreshResponse, McpServerToolCallParams,
    McpServerToolCallResponse,
};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Start-up updates buffered per thread before the client has taken them.
const UPDATE_QUEUE: usize = 64;

fn mcp_error(e: McpError) -> CoreError {
    match e {
        McpError::UnknownServer(_) => CoreError::InvalidParams(e.to_string()),
        other => CoreError::Internal(other.to_string()),
    }
}

impl Runtime {
    /// Gives `thread` an MCP manager for `config` when it has servers; they start on
    /// [`Runtime::start_mcp`] or at the first model request.
    pub(super) fn attach_mcp(
        &self,
        thread: &LoadedThread,
        config: McpConfig,
        overlay: toml::Table,
        policy: AskForApproval,
    ) {
        if config.servers.is_empty() {
            return;
        }
        let sink = self.inner.sink.for_thread(&thread.id);
        let route = Arc::new(ElicitationRoute::new(
            &thread.id,
            sink.clone(),
            thread.status.clone(),
            policy,
        ));
        let (updates, mut rx) = mpsc::channel::<McpStartupUpdate>(UPDATE_QUEUE);
        let manager = McpManager::new(config, updates, route.clone());
        let thread_id = thread.id.clone();
        // Ends when the manager is gone (its senders with it).
        tokio::spawn(async move {
            while let Some(update) = rx.recv().await {
                sink.notify::<m::McpServerStartupStatusUpdated>(
                    &update.notification(Some(&thread_id)),
                )
                .await;
            }
        });
        thread
            .tools
            .resource::<ThreadMcp>()
            .attach(manager, overlay, route);
    }

    /// Starts a loaded thread's MCP servers in the background, if it has any.
    pub(super) fn start_mcp(&self, thread_id: &str) {
        if let Some(manager) = self.thread_mcp(thread_id) {
            manager.start();
        }
    }

    /// Applies the thread's configuration again (a reload, or a new `config` map from
    /// `thread/resume` / `thread/fork` when `overlay` is given): servers that changed restart,
    /// removed ones stop, new ones start.
    ///
    /// # Errors
    /// A configuration the runtime cannot use; the servers are left as they were.
    pub(super) fn reconfigure_mcp(
        &self,
        thread: &LoadedThread,
        overlay: Option<toml::Table>,
        policy: AskForApproval,
    ) -> Result<(), CoreError> {
        let mcp = thread.tools.resource::<ThreadMcp>();
        let overlay = overlay.or_else(|| mcp.overlay()).unwrap_or_default();
        let config = self.inner.tools_config.resolve(&overlay)?.mcp;
        match mcp.manager() {
            Some(manager) => {
                manager.reload(config);
                mcp.set_overlay(overlay);
            }
            None => {
                self.attach_mcp(thread, config, overlay, policy);
                self.start_mcp(&thread.id);
            }
        }
        Ok(())
    }

    fn thread_mcp(&self, thread_id: &str) -> Option<McpManager> {
        self.inner
            .threads
            .get(thread_id)?
            .tools
            .resource::<ThreadMcp>()
            .manager()
    }

    /// A manager for the configuration alone, for requests that name no thread; nobody is
    /// asked about its elicitations. The caller shuts it down.
    fn unthreaded_mcp(&self) -> Result<McpManager, CoreError> {
        let config = self.inner.tools_config.resolve(&toml::Table::new())?.mcp;
        // Nobody listens to its start-up updates: sending to a closed channel returns at once.
        let (updates, _) = mpsc::channel(1);
        Ok(McpManager::new(
            config,
            updates,
            Arc::new(DeclineElicitations),
        ))
    }

    /// `mcpServerStatus/list`: the servers of a loaded thread when `threadId` names one,
    /// else of the configuration (started for the listing, stopped after it).
    pub async fn mcp_status_list(
        &self,
        p: ListMcpServerStatusParams,
    ) -> Result<ListMcpServerStatusResponse, CoreError> {
        let cancel = self.inner.shutdown.child_token();
        if let Some(manager) = p.thread_id.as_deref().and_then(|id| self.thread_mcp(id)) {
            return Ok(manager.status_list(&p, &cancel).await);
        }
        let manager = self.unthreaded_mcp()?;
        let list = manager.status_list(&p, &cancel).await;
        manager.shutdown();
        Ok(list)
    }

    /// `mcpServer/tool/call`: calls a tool of one of the thread's servers directly (no model,
    /// no approval), under the server's `tool_timeout_sec`.
    pub async fn mcp_tool_call(
        &self,
        p: McpServerToolCallParams,
    ) -> Result<McpServerToolCallResponse, CoreError> {
        let thread = self.load(&p.thread_id).await?;
        let manager = thread
            .tools
            .resource::<ThreadMcp>()
            .manager()
            .ok_or_else(|| mcp_error(McpError::UnknownServer(p.server.clone())))?;
        let cancel = self.inner.shutdown.child_token();
        manager
            .call_tool_direct(&p, &cancel)
            .await
            .map_err(mcp_error)
    }

    /// `mcpServer/resource/read`: from the thread's servers, or the configuration's.
    pub async fn mcp_resource_read(
        &self,
        p: McpResourceReadParams,
    ) -> Result<McpResourceReadResponse, CoreError> {
        let cancel = self.inner.shutdown.child_token();
        if let Some(thread_id) = &p.thread_id {
            let thread = self.load(thread_id).await?;
            let manager = thread
                .tools
                .resource::<ThreadMcp>()
                .manager()
                .ok_or_else(|| mcp_error(McpError::UnknownServer(p.server.clone())))?;
            return manager.read_resource(&p, &cancel).await.map_err(mcp_error);
        }
        let manager = self.unthreaded_mcp()?;
        let result = manager.read_resource(&p, &cancel).await;
        manager.shutdown();
        result.map_err(mcp_error)
    }

    /// `config/mcpServer/reload`: reads the configuration files again and applies their MCP
    /// servers to new threads and to every loaded one.
    ///
    /// # Errors
    /// A configuration that does not load (nothing changes then), or whose servers are invalid
    /// (the rest of it is current; threads keep the servers they had).
    pub async fn reload_mcp_servers(&self) -> Result<McpServerRefreshResponse, CoreError> {
        let live = self.inner.config.clone();
        tokio::task::spawn_blocking(move || live.reload())
            .await
            .map_err(|e| CoreError::Internal(format!("config reload: {e}")))??;
        self.inner
            .tools_config
            .replace(&self.inner.config.config().raw)?;
        for id in self.inner.threads.ids() {
            let Some(thread) = self.inner.threads.get(&id) else {
                continue;
            };
            let policy = thread.state.lock().await.settings.approval_policy.clone();
            if let Err(e) = self.reconfigure_mcp(&thread, None, policy) {
                tracing::warn!(thread_id = %id, "MCP servers not reloaded: {e}");
            }
        }
        Ok(McpServerRefreshResponse {})
    }

    /// Stops every loaded thread's MCP servers (the runtime is shutting down).
    pub(super) fn shutdown_mcp(&self) {
        for id in self.inner.threads.ids() {
            if let Some(thread) = self.inner.threads.get(&id) {
                thread.tools.resource::<ThreadMcp>().shutdown();
            }
        }
    }
}
