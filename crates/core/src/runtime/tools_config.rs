//! The tool-related part of the configuration: MCP servers (`[mcp_servers.*]`,
//! `mcp_optional_startup_grace_ms`) and how long a client-defined tool call waits
//! (`dynamic_tool_timeout_sec`), as a thread sees them: the configuration, then the thread's own
//! `config` map (dotted keys such as `mcp_servers.time.command`) laid over it. The base is
//! replaced by `config/mcpServer/reload`.

use crate::error::CoreError;
use crate::tools::dynamic::DEFAULT_DYNAMIC_TOOL_TIMEOUT;
use codex_mcp::McpConfig;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The configuration keys this module reads; the rest of the configuration is not copied.
const KEYS: [&str; 3] = [
    "mcp_servers",
    "mcp_optional_startup_grace_ms",
    "dynamic_tool_timeout_sec",
];

/// The tool-related part of the configuration, replaced by `config/mcpServer/reload`.
pub struct ToolsConfig {
    base: Mutex<Arc<toml::Table>>,
}

/// What a thread's configuration says about tools from outside.
pub struct ThreadToolsConfig {
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
    pub fn replace(&self, raw: &toml::Table) -> Result<(), CoreError> {
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
        let overlay = crate::config::table_from_json(
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
