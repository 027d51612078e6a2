//! The runtime in this process (cargo feature `embedded`): the app-server runs as tasks on the
//! caller's tokio runtime and the client speaks to it over an in-memory pipe, through the same
//! framing as over stdio. No subprocess, no binary to find.
//!
//! From [`CodexConfig`] it uses `config_overrides`, `cwd` (the default thread directory, else
//! this process's) and `CODEX_HOME` from `env` (else the process's `$CODEX_HOME`, else
//! `~/.codex`). Other `env` entries cannot apply in-process: the model client reads this
//! process's environment (`OPENAI_API_KEY`, ...).

use crate::codex::Codex;
use crate::config::CodexConfig;
use crate::connection::Connection;
use crate::error::Error;
use codex_core::config::{parse_overrides, Config};
use codex_core::RuntimeOptions;
use codex_server::AppServer;
use std::path::PathBuf;

impl Codex {
    /// Runs the app-server inside this process and connects to it.
    ///
    /// ```no_run
    /// # async fn demo() -> codex_sdk::Result<()> {
    /// use codex_sdk::{Codex, CodexConfig, ThreadOptions};
    ///
    /// let codex = Codex::embedded(CodexConfig::default().env("CODEX_HOME", "/tmp/home")).await?;
    /// let thread = codex.thread_start(ThreadOptions::default()).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Embedded`] for a configuration that does not load or resolve; the handshake
    /// failing.
    pub async fn embedded(config: CodexConfig) -> Result<Codex, Error> {
        let overrides = parse_overrides(&config.config_overrides)
            .map_err(|e| Error::Embedded(e.to_string()))?;
        let home = config
            .env
            .iter()
            .rev()
            .find(|(key, _)| key == "CODEX_HOME")
            .map(|(_, value)| PathBuf::from(value));
        let loaded = match home {
            Some(home) => std::fs::create_dir_all(&home)
                .map_err(|e| Error::Embedded(format!("{}: {e}", home.display())))
                .and_then(|()| {
                    Config::load_from(home, overrides).map_err(|e| Error::Embedded(e.to_string()))
                }),
            None => Config::load(overrides).map_err(|e| Error::Embedded(e.to_string())),
        }?;
        let default_cwd = match &config.cwd {
            Some(cwd) => cwd.clone(),
            None => std::env::current_dir().map_err(|e| Error::Embedded(format!("cwd: {e}")))?,
        };
        // Built here, not in the task, so a configuration that does not resolve is this
        // call's error instead of a closed connection.
        // User skills live under $HOME, as for the binary.
        let home_dir = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(std::path::PathBuf::from);
        let options = RuntimeOptions {
            default_cwd,
            home_dir,
        };
        let server = AppServer::new(loaded, options).map_err(|e| Error::Embedded(e.to_string()))?;
        let (server_end, client_end) = codex_jsonrpc::memory_pair();
        let server_connection = codex_jsonrpc::Connection::stream(server_end, server.limits());
        // One session, as `codex app-server` runs one over stdio: serve until the client's
        // input ends, stop running turns, flush.
        let session = tokio::spawn(async move {
            let attached = server.serve(server_connection).await;
            server.runtime().shutdown().await;
            attached.close().await;
        });
        let (input, output) = tokio::io::split(client_end);
        let connection = Connection::start(input, output, None, &config);
        connection.set_server_task(session);
        Codex::initialize(connection, &config).await
    }
}
