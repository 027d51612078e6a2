//! [`Runtime`], the facade the server calls: one method per protocol operation, grouped by
//! area in the submodules (`threads`, `turns`, `models`, `account`, `config`, `files`,
//! `skills`, `review`, `command_exec`, `shell_command`, `mcp`; paged history in `pages`,
//! `revert`, `thread_edits`, `response_limit`). It owns the live configuration, the store
//! access, the loaded threads, the model clients, skills and file search, and the sink to
//! clients, and hands a turn only the narrow [`TurnEnv`] it needs.
//!
//! Operations that must do something after answering (announce a new thread, launch or stop a
//! turn) take a [`Reply`] and answer through it first; the others return their result.
//!
//! # Adding a method
//! Add an operation here in the submodule of its area (a new area gets a new submodule), then
//! a handler in the server's `handlers/<area>.rs` that registers it for its `Method`.

mod account;
mod client_tools;
mod command_exec;
mod command_registries;
mod config;
mod files;
mod leases;
mod loading;
mod mcp;
mod models;
mod pages;
mod response_limit;
mod revert;
mod review;
mod shell_command;
mod skills;
mod thread_edits;
mod threads;
mod tools_config;
mod turns;
pub mod unload;

use crate::config::{Config, ConfigHandle, Settings};
use crate::error::CoreError;
use crate::identity::Caller;
use crate::loaded::LoadedThreads;
use crate::sink::{ClientSink, Sink};
use crate::store_access::StoreAccess;
use crate::thread::{ActiveTurn, LoadedThread, ThreadState, TurnKind};
use crate::turn::{TurnEnv, TurnLaunch, TurnRequest};
use codex_protocol::v2::{
    CodexErrorInfo, CodexErrorKind, ConfigWarningNotification, ThreadStatus, TurnError,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a shutdown waits for running turns to record their end.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Runtime settings that do not come from `config.toml`.
#[derive(Clone, Debug)]
pub struct RuntimeOptions {
    /// The working directory of threads started without a `cwd`, and the base of relative
    /// `cwd` params (the process's directory, for the binary).
    pub default_cwd: PathBuf,
    /// The user's home directory (`$HOME`), which holds user skills in `.agents/skills`;
    /// `None` leaves that root out.
    pub home_dir: Option<PathBuf>,
}

impl RuntimeOptions {
    /// Options for a process: threads default to its current directory.
    ///
    /// # Errors
    /// [`CoreError::Internal`] when the current directory cannot be read.
    pub fn from_process() -> Result<RuntimeOptions, CoreError> {
        let default_cwd =
            std::env::current_dir().map_err(|e| CoreError::Internal(format!("cwd: {e}")))?;
        let home_dir = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Ok(RuntimeOptions {
            default_cwd,
            home_dir,
        })
    }
}

/// The agent runtime. Cheap to clone; every clone is the same runtime.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    /// The live configuration: a `config/*` write swaps it, and threads started afterwards
    /// resolve their settings from the new value.
    config: ConfigHandle,
    codex_home: PathBuf,
    options: RuntimeOptions,
    store: StoreAccess,
    /// One HTTP client per provider, so connections and TLS state are reused across turns;
    /// kept with the provider it was built for, so a changed definition gets a new client.
    model_clients: Mutex<HashMap<String, (codex_model::ProviderInfo, codex_model::ModelClient)>>,
    /// Skill discovery, the `skills/changed` watcher, and what turns show the model.
    skills: Arc<crate::skills::Skills>,
    /// `fuzzyFileSearch`, with its cancellation tokens.
    fuzzy: codex_workspace::search::FuzzySearcher,
    sink: Sink,
    threads: LoadedThreads,
    /// Turn indexes of recently paged threads (`turn_index.rs`).
    turn_indexes: crate::turn_index::TurnIndexes,
    /// Cancels every running turn at shutdown.
    shutdown: CancellationToken,
    /// The `command/exec` processes of each connection.
    commands: command_registries::CommandExecs,
    tasks: TaskTracker,
    /// MCP servers and client-tool settings (replaced by `config/mcpServer/reload`).
    tools_config: tools_config::ToolsConfig,
}

impl Runtime {
    /// A runtime over `config` that talks to clients through `sink`. The thread store opens
    /// in the background.
    ///
    /// # Errors
    /// A configuration that does not resolve to settings.
    pub fn new(
        config: Config,
        sink: Arc<dyn ClientSink>,
        options: RuntimeOptions,
    ) -> Result<Runtime, CoreError> {
        let codex_home = config.codex_home.clone();
        let tools_config = tools_config::ToolsConfig::new(&config.raw)?;
        let config = ConfigHandle::new(config)?;
        let store = StoreAccess::open(&config.settings().thread_store, &codex_home)?;
        let sink = Sink::new(sink);
        let skill_homes = codex_workspace::skills::SkillHomes {
            codex_home: codex_home.clone(),
            home: options.home_dir.clone(),
        };
        Ok(Runtime {
            inner: Arc::new(Inner {
                config,
                codex_home,
                options,
                store,
                model_clients: Mutex::new(HashMap::new()),
                skills: Arc::new(crate::skills::Skills::new(skill_homes, sink.clone())),
                fuzzy: codex_workspace::search::FuzzySearcher::new(),
                sink,
                threads: LoadedThreads::default(),
                turn_indexes: Default::default(),
                shutdown: CancellationToken::new(),
                commands: command_registries::CommandExecs::default(),
                tasks: TaskTracker::new(),
                tools_config,
            }),
        })
    }

    pub fn codex_home(&self) -> &Path {
        &self.inner.codex_home
    }

    /// The live configuration (what `config/*` reads and writes).
    pub fn config(&self) -> &ConfigHandle {
        &self.inner.config
    }

    /// The current settings, without any thread's project layers or `config` map.
    fn current_settings(&self) -> Arc<Settings> {
        self.inner.config.settings()
    }

    /// Warnings for a client right after `initialize`: today, a kernel without the sandbox
    /// the runtime relies on (sandboxed commands are then refused, never run unconfined).
    pub fn startup_warnings(&self) -> Vec<ConfigWarningNotification> {
        let support = codex_exec::sandbox_support();
        if support.available {
            return Vec::new();
        }
        vec![ConfigWarningNotification {
            summary: "The Linux sandbox (Landlock) is unavailable on this kernel: commands that \
                      need a sandbox will be refused; only danger-full-access runs commands."
                .to_string(),
            details: support.reason,
            path: None,
        }]
    }

    /// Cancels running turns, kills every process the runtime started (the model's sessions,
    /// `command/exec`), and waits (bounded) for the turns to record their end.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.kill_processes();
        self.inner.tasks.close();
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, self.inner.tasks.wait()).await;
        self.shutdown_mcp();
    }

    fn kill_processes(&self) {
        self.inner.commands.kill_all();
        for id in self.inner.threads.ids() {
            if let Some(thread) = self.inner.threads.get(&id) {
                crate::tools::kill_thread_processes(&thread.tools);
            }
        }
    }

    /// The model client for a provider as `settings` define it, created on first use and then
    /// shared while the definition stays the same.
    fn model_client(
        &self,
        settings: &Settings,
        provider_id: &str,
    ) -> Result<codex_model::ModelClient, CoreError> {
        let provider = settings.provider(provider_id)?;
        if let Some(client) = self.inner.model_clients.lock().ok().and_then(|c| {
            c.get(provider_id)
                .filter(|(built_for, _)| *built_for == provider)
                .map(|(_, client)| client.clone())
        }) {
            return Ok(client);
        }
        let key = codex_model::resolve_api_key(&provider, self.codex_home());
        let client = codex_model::ModelClient::new(provider.clone(), key)
            .map_err(|e| CoreError::Internal(format!("model client: {e}")))?;
        if let Ok(mut clients) = self.inner.model_clients.lock() {
            clients.insert(provider_id.to_string(), (provider, client.clone()));
        }
        Ok(client)
    }

    /// Forgets cached clients, e.g. after the stored credentials changed.
    fn reset_model_clients(&self) {
        if let Ok(mut clients) = self.inner.model_clients.lock() {
            clients.clear();
        }
    }

    /// Marks a new turn active on `thread` (under its state lock) and prepares it.
    fn begin_turn(
        &self,
        caller: &Caller,
        thread: &Arc<LoadedThread>,
        st: &mut ThreadState,
        kind: TurnKind,
        request: TurnRequest,
    ) -> TurnLaunch {
        let turn_id = crate::clock::new_id();
        let cancel = self.inner.shutdown.child_token();
        let pending_input = Arc::new(Mutex::new(Vec::new()));
        let finished = Arc::new(tokio::sync::watch::channel(false).0);
        let started_at = crate::clock::now_secs();
        st.active = Some(ActiveTurn {
            turn_id: turn_id.clone(),
            kind,
            cancel: cancel.clone(),
            pending_input: pending_input.clone(),
            finished: finished.clone(),
            started_at,
            closing: false,
        });
        thread.status.set(ThreadStatus::Active {
            active_flags: Vec::new(),
        });
        let model = self
            .model_client(&st.settings.resolved, &st.settings.provider_id)
            .map_err(|e| {
                TurnError::new(
                    e.to_string(),
                    CodexErrorInfo::Kind(CodexErrorKind::BadRequest),
                )
            });
        let env = TurnEnv {
            sink: self
                .inner
                .sink
                .for_thread(&thread.id)
                .with_origin(caller.origin),
            store: self.inner.store.clone(),
            tasks: self.inner.tasks.clone(),
            model,
            base: st.settings.resolved.clone(),
            client: caller.client.clone(),
            skills: self.inner.skills.clone(),
        };
        TurnLaunch {
            env,
            thread: thread.clone(),
            turn_id,
            kind,
            request,
            cancel,
            pending_input,
            finished,
            started_at,
        }
    }
}
