//! The `[mcp_servers.NAME]` tables and the top-level `mcp_optional_startup_grace_ms`, read from
//! an already-parsed TOML document (the config crate owns files, layers and `-c` overrides).
//!
//! A server is stdio (`command`, `args`, `env`, `env_vars`, `cwd`) or streamable HTTP (`url`,
//! `bearer_token_env_var`, `http_headers`, `env_http_headers`); the rest applies to both.
//! Defaults are the official ones: enabled, 10 s to start, 60 s per tool call.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Default `startup_timeout_sec`.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default `tool_timeout_sec`.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// Every MCP setting of one configuration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct McpConfig {
    /// Configured servers by their configured name (disabled ones included: status lists them).
    pub servers: BTreeMap<String, McpServerConfig>,
    /// How long a model request waits for servers still starting; zero means up to each
    /// server's own `startup_timeout_sec`.
    pub optional_startup_grace: Duration,
}

/// One `[mcp_servers.NAME]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct McpServerConfig {
    pub transport: McpTransport,
    pub enabled: bool,
    pub startup_timeout: Duration,
    pub tool_timeout: Duration,
    /// Allow-list of the server's tool names; `None` allows every tool.
    pub enabled_tools: Option<Vec<String>>,
    /// Deny-list, applied after the allow-list.
    pub disabled_tools: Vec<String>,
    /// Per-tool settings (`[mcp_servers.NAME.tools.TOOL]`).
    pub tools: BTreeMap<String, McpToolConfig>,
}

/// How to reach a server.
#[derive(Clone, Debug, PartialEq)]
pub enum McpTransport {
    Stdio {
        command: String,
        args: Vec<String>,
        /// Variables set for the child on top of the inherited allow-list.
        env: BTreeMap<String, String>,
        /// Names of further variables passed through from our environment.
        env_vars: Vec<String>,
        cwd: Option<PathBuf>,
    },
    StreamableHttp {
        url: String,
        /// Variable holding a bearer token sent as `Authorization: Bearer ...`.
        bearer_token_env_var: Option<String>,
        http_headers: BTreeMap<String, String>,
        /// Header name -> variable holding its value.
        env_http_headers: BTreeMap<String, String>,
    },
}

/// `[mcp_servers.NAME.tools.TOOL]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct McpToolConfig {
    #[serde(default)]
    pub approval_mode: ToolApprovalMode,
}

/// When a tool call asks the user first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolApprovalMode {
    /// Ask when the tool's annotations say it may be destructive (the default).
    #[default]
    Auto,
    /// Always ask.
    Prompt,
    /// Never ask.
    Approve,
}

/// A configuration that cannot describe a server.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid `mcp_servers.{server}`: {message}")]
    Server { server: String, message: String },
    #[error("invalid `{key}`: {message}")]
    Key { key: &'static str, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    env_vars: Vec<String>,
    cwd: Option<PathBuf>,
    url: Option<String>,
    bearer_token_env_var: Option<String>,
    #[serde(default)]
    http_headers: BTreeMap<String, String>,
    #[serde(default)]
    env_http_headers: BTreeMap<String, String>,
    enabled: Option<bool>,
    startup_timeout_sec: Option<f64>,
    /// Older spelling of `startup_timeout_sec`, still accepted upstream.
    startup_timeout_ms: Option<u64>,
    tool_timeout_sec: Option<f64>,
    enabled_tools: Option<Vec<String>>,
    #[serde(default)]
    disabled_tools: Vec<String>,
    #[serde(default)]
    tools: BTreeMap<String, McpToolConfig>,
    /// Upstream keys this runtime accepts and ignores (OAuth, plugins), so a config written
    /// for the official runtime still loads.
    #[serde(default, rename = "required")]
    _required: Option<toml::Value>,
    #[serde(default, rename = "scopes")]
    _scopes: Option<toml::Value>,
    #[serde(default, rename = "oauth_resource")]
    _oauth_resource: Option<toml::Value>,
}

impl McpConfig {
    /// Reads `mcp_servers` and `mcp_optional_startup_grace_ms` from a whole config document.
    /// Missing keys give an empty configuration.
    ///
    /// # Errors
    /// A server table with unknown keys, wrong types, neither or both of `command` and `url`,
    /// or a negative or non-finite timeout; a negative grace.
    pub fn from_toml(root: &toml::Table) -> Result<Self, ConfigError> {
        let optional_startup_grace = match root.get("mcp_optional_startup_grace_ms") {
            None => Duration::ZERO,
            Some(value) => {
                let ms = value.as_integer().ok_or_else(|| ConfigError::Key {
                    key: "mcp_optional_startup_grace_ms",
                    message: "expected an integer number of milliseconds".to_string(),
                })?;
                let ms = u64::try_from(ms).map_err(|_| ConfigError::Key {
                    key: "mcp_optional_startup_grace_ms",
                    message: "must not be negative".to_string(),
                })?;
                Duration::from_millis(ms)
            }
        };
        let mut servers = BTreeMap::new();
        if let Some(value) = root.get("mcp_servers") {
            let table = value.as_table().ok_or_else(|| ConfigError::Key {
                key: "mcp_servers",
                message: "expected a table of servers".to_string(),
            })?;
            for (name, value) in table {
                let server = McpServerConfig::from_toml(name, value.clone())?;
                servers.insert(name.clone(), server);
            }
        }
        Ok(McpConfig {
            servers,
            optional_startup_grace,
        })
    }

    /// Servers that are enabled, by name.
    pub fn enabled_servers(&self) -> impl Iterator<Item = (&String, &McpServerConfig)> {
        self.servers.iter().filter(|(_, server)| server.enabled)
    }
}

impl McpServerConfig {
    /// Parses one `[mcp_servers.NAME]` value.
    ///
    /// # Errors
    /// See [`McpConfig::from_toml`].
    pub fn from_toml(name: &str, value: toml::Value) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::Server {
            server: name.to_string(),
            message,
        };
        let raw: RawServer = value
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.message().trim().to_string()))?;
        let transport = match (raw.command, raw.url) {
            (Some(command), None) => McpTransport::Stdio {
                command,
                args: raw.args,
                env: raw.env,
                env_vars: raw.env_vars,
                cwd: raw.cwd,
            },
            (None, Some(url)) => McpTransport::StreamableHttp {
                url,
                bearer_token_env_var: raw.bearer_token_env_var,
                http_headers: raw.http_headers,
                env_http_headers: raw.env_http_headers,
            },
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "set either `command` or `url`, not both".to_string(),
                ))
            }
            (None, None) => return Err(invalid("needs `command` or `url`".to_string())),
        };
        let seconds = |key: &str, value: Option<f64>, default: Duration| match value {
            None => Ok(default),
            Some(s) if s.is_finite() && s >= 0.0 => Ok(Duration::from_secs_f64(s)),
            Some(s) => Err(invalid(format!(
                "`{key}` must be a non-negative number, got {s}"
            ))),
        };
        let startup_default = raw
            .startup_timeout_ms
            .map_or(DEFAULT_STARTUP_TIMEOUT, Duration::from_millis);
        Ok(McpServerConfig {
            transport,
            enabled: raw.enabled.unwrap_or(true),
            startup_timeout: seconds(
                "startup_timeout_sec",
                raw.startup_timeout_sec,
                startup_default,
            )?,
            tool_timeout: seconds(
                "tool_timeout_sec",
                raw.tool_timeout_sec,
                DEFAULT_TOOL_TIMEOUT,
            )?,
            enabled_tools: raw.enabled_tools,
            disabled_tools: raw.disabled_tools,
            tools: raw.tools,
        })
    }

    /// A stdio server with defaults for everything else (tests and programmatic configs).
    pub fn stdio(command: impl Into<String>, args: Vec<String>) -> Self {
        McpServerConfig {
            transport: McpTransport::Stdio {
                command: command.into(),
                args,
                env: BTreeMap::new(),
                env_vars: Vec::new(),
                cwd: None,
            },
            enabled: true,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled_tools: None,
            disabled_tools: Vec::new(),
            tools: BTreeMap::new(),
        }
    }

    /// Whether the filters let the model (and the status list) see this tool.
    pub fn tool_enabled(&self, tool: &str) -> bool {
        let allowed = self
            .enabled_tools
            .as_ref()
            .is_none_or(|allow| allow.iter().any(|t| t == tool));
        allowed && !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// The configured approval mode of one tool.
    pub fn approval_mode(&self, tool: &str) -> ToolApprovalMode {
        self.tools
            .get(tool)
            .map(|t| t.approval_mode)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<McpConfig, ConfigError> {
        McpConfig::from_toml(&text.parse::<toml::Table>().unwrap())
    }

    #[test]
    fn reads_both_transports_and_every_option() {
        let config = parse(
            r#"
            mcp_optional_startup_grace_ms = 250
            [mcp_servers.fs]
            command = "npx"
            args = ["-y", "server-filesystem", "/tmp"]
            env = { A = "1" }
            env_vars = ["GEM_HOME"]
            cwd = "/work"
            startup_timeout_sec = 2.5
            tool_timeout_sec = 30
            enabled_tools = ["read_file", "write_file"]
            disabled_tools = ["write_file"]
            [mcp_servers.fs.tools.read_file]
            approval_mode = "approve"
            [mcp_servers.remote]
            url = "https://example.test/mcp"
            bearer_token_env_var = "TOKEN"
            enabled = false
            "#,
        )
        .unwrap();
        assert_eq!(config.optional_startup_grace, Duration::from_millis(250));
        let fs = &config.servers["fs"];
        assert_eq!(fs.startup_timeout, Duration::from_millis(2500));
        assert_eq!(fs.tool_timeout, Duration::from_secs(30));
        assert!(fs.tool_enabled("read_file"));
        assert!(!fs.tool_enabled("write_file"), "deny-list wins");
        assert!(!fs.tool_enabled("list_directory"), "not on the allow-list");
        assert_eq!(fs.approval_mode("read_file"), ToolApprovalMode::Approve);
        assert_eq!(fs.approval_mode("other"), ToolApprovalMode::Auto);
        match &fs.transport {
            McpTransport::Stdio { env, cwd, .. } => {
                assert_eq!(env["A"], "1");
                assert_eq!(cwd.as_deref(), Some(std::path::Path::new("/work")));
            }
            other => panic!("expected stdio, got {other:?}"),
        }
        let remote = &config.servers["remote"];
        assert!(!remote.enabled);
        assert_eq!(remote.startup_timeout, DEFAULT_STARTUP_TIMEOUT);
        assert!(matches!(
            &remote.transport,
            McpTransport::StreamableHttp { bearer_token_env_var: Some(v), .. } if v == "TOKEN"
        ));
        assert_eq!(config.enabled_servers().count(), 1);
    }

    #[test]
    fn rejects_servers_it_cannot_run_naming_them() {
        let err = parse("[mcp_servers.x]\nargs = []").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `mcp_servers.x`: needs `command` or `url`"
        );
        let err = parse("[mcp_servers.y]\ncommand = \"a\"\nurl = \"http://h\"").unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = parse("[mcp_servers.z]\ncommand = \"a\"\ncomand = 1").unwrap_err();
        assert!(err.to_string().contains("mcp_servers.z"), "{err}");
        let err = parse("[mcp_servers.w]\ncommand = \"a\"\ntool_timeout_sec = -1").unwrap_err();
        assert!(err.to_string().contains("tool_timeout_sec"), "{err}");
        assert!(parse("mcp_optional_startup_grace_ms = -5").is_err());
        assert_eq!(parse("").unwrap(), McpConfig::default());
    }
}
