//! [`CodexConfig`]: how to launch the app-server and how the client behaves (timeouts,
//! buffers, approvals). The launch argv is the Python SDK's:
//! `[bin, (--config key=value)*, app-server, --listen, stdio://]`.

use crate::approvals::ApprovalHandler;
use crate::discovery::Discovery;
use crate::error::Error;
use crate::process::Launch;
use codex_protocol::v2::ApprovalDecision;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How to launch and identify the app-server, and the client's bounds.
///
/// ```
/// use codex_sdk::CodexConfig;
/// use std::time::Duration;
///
/// let config = CodexConfig::default()
///     .codex_bin("target/debug/codex")
///     .config_override("model=\"gpt-5.1-codex\"")
///     .env("CODEX_HOME", "/tmp/codex-home")
///     .request_timeout(Duration::from_secs(30));
/// # drop(config);
/// ```
#[derive(Clone)]
pub struct CodexConfig {
    /// The binary; `None` runs discovery (see [`crate::CodexConfig::resolve_binary`]).
    pub codex_bin: Option<PathBuf>,
    /// Replaces the whole argv (binary included).
    pub launch_args_override: Option<Vec<OsString>>,
    /// `key=value` pairs passed as `--config` (values are TOML, else raw strings).
    pub config_overrides: Vec<String>,
    /// The server's working directory (the default `cwd` of its threads).
    pub cwd: Option<PathBuf>,
    /// Set on top of this process's environment.
    pub env: Vec<(OsString, OsString)>,
    /// `clientInfo.name` (the server makes it the originator of threads).
    pub client_name: String,
    /// `clientInfo.title`.
    pub client_title: String,
    /// `clientInfo.version`.
    pub client_version: String,
    /// `capabilities.experimentalApi`; client-defined tools need it.
    pub experimental_api: bool,
    /// Bound on every request's answer (the handshake included).
    pub request_timeout: Duration,
    /// Bound on the wait for a turn's next notification; `None` waits as long as the turn
    /// runs (commands and models can be silent for a long time).
    pub turn_idle_timeout: Option<Duration>,
    /// Notifications buffered per turn stream before its reader counts as lagging
    /// ([`crate::Error::Lagged`]).
    pub turn_buffer: usize,
    /// Decides approvals; without one every approval gets [`CodexConfig::approval_default`].
    pub approval_handler: Option<Arc<dyn ApprovalHandler>>,
    /// The answer when there is no handler or it returns `None`.
    pub approval_default: ApprovalDecision,
}

impl Default for CodexConfig {
    fn default() -> Self {
        CodexConfig {
            codex_bin: None,
            launch_args_override: None,
            config_overrides: Vec::new(),
            cwd: None,
            env: Vec::new(),
            client_name: "codex_rust_sdk".to_string(),
            client_title: "Codex Rust SDK".to_string(),
            client_version: env!("CARGO_PKG_VERSION").to_string(),
            experimental_api: true,
            request_timeout: Duration::from_secs(120),
            turn_idle_timeout: None,
            turn_buffer: 65_536,
            approval_handler: None,
            approval_default: ApprovalDecision::Accept,
        }
    }
}

impl fmt::Debug for CodexConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodexConfig")
            .field("codex_bin", &self.codex_bin)
            .field("launch_args_override", &self.launch_args_override)
            .field("config_overrides", &self.config_overrides)
            .field("cwd", &self.cwd)
            .field("env", &self.env)
            .field("client_name", &self.client_name)
            .field("experimental_api", &self.experimental_api)
            .field("request_timeout", &self.request_timeout)
            .field("turn_idle_timeout", &self.turn_idle_timeout)
            .field("turn_buffer", &self.turn_buffer)
            .field("approval_handler", &self.approval_handler.is_some())
            .field("approval_default", &self.approval_default)
            .finish()
    }
}

impl CodexConfig {
    /// Sets [`CodexConfig::codex_bin`].
    pub fn codex_bin(mut self, path: impl Into<PathBuf>) -> Self {
        self.codex_bin = Some(path.into());
        self
    }

    /// Adds one `--config key=value`.
    pub fn config_override(mut self, key_value: impl Into<String>) -> Self {
        self.config_overrides.push(key_value.into());
        self
    }

    /// Sets [`CodexConfig::cwd`].
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets one environment variable for the server.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets [`CodexConfig::request_timeout`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets [`CodexConfig::turn_idle_timeout`].
    pub fn turn_idle_timeout(mut self, timeout: Duration) -> Self {
        self.turn_idle_timeout = Some(timeout);
        self
    }

    /// Sets [`CodexConfig::approval_handler`].
    pub fn approval_handler(mut self, handler: impl ApprovalHandler) -> Self {
        self.approval_handler = Some(Arc::new(handler));
        self
    }

    /// Sets [`CodexConfig::approval_default`].
    pub fn approval_default(mut self, decision: ApprovalDecision) -> Self {
        self.approval_default = decision;
        self
    }

    /// The binary this configuration launches: [`CodexConfig::codex_bin`], else
    /// `$CODEX_BIN`, else `codex` next to the running executable, else the checkout's
    /// `target/{release,debug}/codex`, else `codex` on `PATH`.
    ///
    /// # Errors
    /// [`Error::BinaryNotFound`] listing every place tried.
    pub fn resolve_binary(&self) -> Result<PathBuf, Error> {
        Discovery::from_process(self.codex_bin.clone()).find()
    }

    pub(crate) fn launch(&self) -> Result<Launch, Error> {
        let argv = match &self.launch_args_override {
            Some(argv) => argv.clone(),
            None => {
                let mut argv = vec![self.resolve_binary()?.into_os_string()];
                for key_value in &self.config_overrides {
                    argv.push("--config".into());
                    argv.push(key_value.into());
                }
                argv.extend(["app-server", "--listen", "stdio://"].map(OsString::from));
                argv
            }
        };
        Ok(Launch {
            argv,
            cwd: self.cwd.clone(),
            env: self.env.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_puts_config_flags_before_the_subcommand() {
        let config = CodexConfig::default()
            .codex_bin("/bin/sh")
            .config_override("model=\"m\"")
            .config_override("a.b=1");
        let launch = config.launch().unwrap();
        let argv: Vec<String> = launch
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            argv,
            [
                "/bin/sh",
                "--config",
                "model=\"m\"",
                "--config",
                "a.b=1",
                "app-server",
                "--listen",
                "stdio://"
            ]
        );
        let overridden = CodexConfig {
            launch_args_override: Some(vec!["x".into(), "y".into()]),
            ..CodexConfig::default()
        };
        assert_eq!(overridden.launch().unwrap().argv, ["x", "y"]);
    }
}
