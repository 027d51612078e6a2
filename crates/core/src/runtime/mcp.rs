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
//! (`tools::before_model_request`). A thread without servers costs nothing here.

use super::Runtime;
use crate::config::Config;
use crate::error::CoreError;
use crate::thread::LoadedThread;
use crate::tools::dynamic::DEFAULT_DYNAMIC_TOOL_TIMEOUT;
use crate::tools::{ElicitationRoute, ThreadMcp};
use codex_mcp::{DeclineElicitations, McpConfig, McpError, McpManager, McpStartupUpdate};
use codex_protocol::methods as m;
use codex_protocol::v2::{
    AskForApproval, ListMcpServerStatusParams, ListMcpServerStatusResponse, McpResourceReadParams,
    McpResourceReadResponse, McpServerRefreshResponse, McpServerToolCallParams,
    McpServerToolCallResponse,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// The configuration keys this module reads; the rest of the configuration is not copied.
const KEYS: [&str; 3] = [
    "mcp_servers",
    "mcp_optional_startup_grace_ms",
    "dynamic_tool_timeout_sec",
];

/// Start-up updates buffered per thread before the client has taken them.
const UPDATE_QUEUE: usize = 64;

/// The tool-related part of the configuration, replaced by `config/mcpServer/reload`.
pub(super) struct ToolsConfig {
    base: Mutex<Arc<toml::Table>>,
}

/// What a thread's configuration says about tools from outside.
pub(super) struct ThreadToolsConfig {
    pub mcp: McpConfig,
    /// How long a client-defined tool call waits for the client.
    pub dynamic_timeout: Duration,
}

impl ToolsConfig {
    /// # Errors
    /// An MCP server table (or timeout) the runtime cannot use.
    pub fn new(raw: &toml::Table) -> Result<ToolsConfig, CoreError> {
        let config = ToolsConfig {
            base: Mutex::new(Arc::new(tool_keys(raw))),
        };
        config.resolve(&toml::Table::new())?;
        Ok(config)
    }

    fn base(&self) -> Arc<toml::Table> {
        self.base.lock().map(|b| Arc::clone(&b)).unwrap_or_default()
    }

    /// The settings for a thread whose own `config` map is `overlay`.
    ///
    /// # Errors
    /// [`CoreError::InvalidParams`] naming the bad key.
    pub fn resolve(&self, overlay: &toml::Table) -> Result<ThreadToolsConfig, CoreError> {
        let base = self.base();
        let own = tool_keys(overlay);
        let merged;
        let table = if own.is_empty() {
            base.as_ref()
        } else {
            let mut table = (*base).clone();
            merge(&mut table, &own);
            merged = table;
            &merged
        };
        if table.is_empty() {
            return Ok(ThreadToolsConfig {
                mcp: McpConfig::default(),
                dynamic_timeout: DEFAULT_DYNAMIC_TOOL_TIMEOUT,
            });
        }
        let mcp =
            McpConfig::from_toml(table).map_err(|e| CoreError::InvalidParams(e.to_string()))?;
        let dynamic_timeout = match table.get("dynamic_tool_timeout_sec") {
            None => DEFAULT_DYNAMIC_TOOL_TIMEOUT,
            Some(value) => value
                .as_float()
                .or_else(|| value.as_integer().map(|i| i as f64))
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    CoreError::InvalidParams(
                        "invalid `dynamic_tool_timeout_sec`: expected a positive number of seconds"
                            .to_string(),
                    )
                })?,
        };
        Ok(ThreadToolsConfig {
            mcp,
            dynamic_timeout,
        })
    }

    /// Makes `raw` (a configuration read again) the base for threads from now on.
    ///
    /// # Errors
    /// As [`ToolsConfig::new`]; the previous base is kept then.
    fn replace(&self, raw: &toml::Table) -> Result<(), CoreError> {
        let next = ToolsConfig::new(raw)?;
        if let Ok(mut base) = self.base.lock() {
            *base = next.base();
        }
        Ok(())
    }
}

/// The keys of [`KEYS`] in `table`.
fn tool_keys(table: &toml::Table) -> toml::Table {
    KEYS.iter()
        .filter_map(|key| Some((key.to_string(), table.get(*key)?.clone())))
        .collect()
}

/// Lays `overlay` over `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut toml::Table, overlay: &toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => {
                merge(existing, incoming)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

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
    /// A configuration that does not load or whose servers are invalid; nothing changes then.
    pub async fn reload_mcp_servers(&self) -> Result<McpServerRefreshResponse, CoreError> {
        let options = self.inner.config.options().clone();
        let config = tokio::task::spawn_blocking(move || Config::load_with(options))
            .await
            .map_err(|e| CoreError::Internal(format!("config reload: {e}")))??;
        self.inner.tools_config.replace(&config.raw)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn a_thread_map_adds_to_and_overrides_the_configured_servers() {
        let config = ToolsConfig::new(&table(
            "model = \"x\"\nmcp_optional_startup_grace_ms = 5\n[mcp_servers.time]\ncommand = \"t\"\nargs = [\"-a\"]\n",
        ))
        .unwrap();
        let overlay = crate::toml_json::json_to_toml_table(
            serde_json::json!({
                "mcp_servers.time.args": ["-b"],
                "mcp_servers.fs.command": "fs",
                "dynamic_tool_timeout_sec": 2,
            })
            .as_object()
            .unwrap(),
        );
        let resolved = config.resolve(&overlay).unwrap();
        assert_eq!(
            resolved.mcp.servers.keys().collect::<Vec<_>>(),
            ["fs", "time"]
        );
        assert!(matches!(
            &resolved.mcp.servers["time"].transport,
            codex_mcp::McpTransport::Stdio { command, args, .. } if command == "t" && args == &["-b"]
        ));
        assert_eq!(
            resolved.mcp.optional_startup_grace,
            Duration::from_millis(5)
        );
        assert_eq!(resolved.dynamic_timeout, Duration::from_secs(2));
        let plain = config.resolve(&toml::Table::new()).unwrap();
        assert_eq!(plain.mcp.servers.len(), 1);
        assert_eq!(plain.dynamic_timeout, DEFAULT_DYNAMIC_TOOL_TIMEOUT);
    }

    #[test]
    fn unusable_settings_are_refused_naming_the_key() {
        let err = ToolsConfig::new(&table("[mcp_servers.x]\nargs = []\n"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("mcp_servers.x"), "{err}");
        let config = ToolsConfig::new(&toml::Table::new()).unwrap();
        let bad = table("dynamic_tool_timeout_sec = -1");
        let err = config.resolve(&bad).err().unwrap();
        assert!(
            err.to_string().contains("dynamic_tool_timeout_sec"),
            "{err}"
        );
        assert!(config
            .resolve(&toml::Table::new())
            .unwrap()
            .mcp
            .servers
            .is_empty());
    }
}
