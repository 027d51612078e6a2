//! The core facade the server calls: one method per protocol operation on threads, turns,
//! models and accounts. It owns the store, the loaded threads and the client channel.

use crate::client::ClientHandle;
use crate::config::Config;
use crate::error::CoreError;
use crate::history;
use crate::settings::{sandbox_policy_for, ThreadSettings};
use crate::thread::{mark_active, wire_thread, ActiveTurn, LoadedThread, ThreadState, TurnKind};
use crate::turn::{TurnLaunch, TurnRequest};
use codex_protocol::methods::{self as m};
use codex_protocol::v2::*;
use codex_store::{ListQuery, NewThread, SortKey, Store, ThreadRecord};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: Config,
    /// The thread store, opened in the background so `initialize` never waits for an index
    /// build; requests that need it wait for `store_ready`.
    pub store: std::sync::OnceLock<Result<Store, String>>,
    pub store_ready: tokio::sync::watch::Receiver<bool>,
    /// Settings resolved from the configuration once; per-thread `config` maps re-resolve.
    pub base_settings: Arc<crate::config::Settings>,
    /// One HTTP client per provider, so connections and TLS state are reused across turns.
    pub model_clients: Mutex<HashMap<String, codex_model::ModelClient>>,
    pub client: ClientHandle,
    pub threads: Mutex<HashMap<String, Arc<LoadedThread>>>,
    pub client_info: Mutex<(String, String)>,
    /// The user agent for the current client, computed once per `initialize`.
    pub user_agent: Mutex<String>,
    /// Cancels every running turn when the connection ends.
    pub shutdown: CancellationToken,
    pub tasks: tokio_util::task::TaskTracker,
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// JSON object from the protocol (`thread/start.config`) to a TOML table.
fn json_to_toml_table(map: &serde_json::Map<String, serde_json::Value>) -> toml::Table {
    let mut t = toml::Table::new();
    for (k, v) in map {
        if let Some(tv) = json_to_toml(v) {
            let ov = crate::config::Override {
                path: k.split('.').map(str::to_string).collect(),
                value: tv,
            };
            crate::config::apply_override(&mut t, &ov);
        }
    }
    t
}

fn json_to_toml(v: &serde_json::Value) -> Option<toml::Value> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        J::Object(o) => toml::Value::Table(json_to_toml_table(o)),
    })
}

impl Runtime {
    pub fn new(config: Config, client: ClientHandle) -> Result<Runtime, CoreError> {
        let base_settings = Arc::new(config.settings(&toml::Table::new())?);
        let (ready_tx, store_ready) = tokio::sync::watch::channel(false);
        let runtime = Runtime {
            inner: Arc::new(Inner {
                store: std::sync::OnceLock::new(),
                store_ready,
                config,
                base_settings,
                model_clients: Mutex::new(HashMap::new()),
                client,
                threads: Mutex::new(HashMap::new()),
                client_info: Mutex::new(("codex".into(), codex_protocol::SERVER_VERSION.into())),
                user_agent: Mutex::new(user_agent("codex", codex_protocol::SERVER_VERSION)),
                shutdown: CancellationToken::new(),
                tasks: tokio_util::task::TaskTracker::new(),
            }),
        };
        let opening = runtime.clone();
        tokio::task::spawn_blocking(move || {
            let opened = Store::open(&opening.inner.config.codex_home).map_err(|e| {
                tracing::error!("cannot open the thread store: {e}");
                format!("the thread store could not be opened: {e}")
            });
            let _ = opening.inner.store.set(opened);
            ready_tx.send_replace(true);
        });
        Ok(runtime)
    }

    /// The thread store, once open (waits for the background open on first use).
    pub async fn store(&self) -> Result<&Store, CoreError> {
        let mut ready = self.inner.store_ready.clone();
        let _ = ready.wait_for(|open| *open).await;
        self.store_now()
    }

    /// The thread store without waiting: for code that runs only after a thread was loaded.
    pub(crate) fn store_now(&self) -> Result<&Store, CoreError> {
        match self.inner.store.get() {
            Some(Ok(store)) => Ok(store),
            Some(Err(e)) => Err(CoreError::Internal(e.clone())),
            None => Err(CoreError::Internal(
                "the thread store is still opening".into(),
            )),
        }
    }

    pub fn codex_home(&self) -> &Path {
        &self.inner.config.codex_home
    }

    pub fn client(&self) -> &ClientHandle {
        &self.inner.client
    }

    pub fn set_client_info(&self, name: &str, version: &str) {
        if let Ok(mut ci) = self.inner.client_info.lock() {
            *ci = (name.to_string(), version.to_string());
        }
        if let Ok(mut ua) = self.inner.user_agent.lock() {
            *ua = user_agent(name, version);
        }
    }

    pub fn originator(&self) -> String {
        self.inner
            .client_info
            .lock()
            .map(|c| c.0.clone())
            .unwrap_or_else(|_| "codex".into())
    }

    pub fn user_agent(&self) -> String {
        self.inner
            .user_agent
            .lock()
            .map(|ua| ua.clone())
            .unwrap_or_default()
    }

    /// Warnings sent to a client right after `initialize`: today, a kernel without the sandbox
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

    /// Cancels running turns and waits (bounded) for them to record their end.
    pub async fn shutdown(&self) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(5), self.inner.tasks.wait()).await;
    }

    fn loaded(&self, id: &str) -> Option<Arc<LoadedThread>> {
        self.inner
            .threads
            .lock()
            .ok()
            .and_then(|t| t.get(id).cloned())
    }

    fn insert_loaded(&self, thread: Arc<LoadedThread>) {
        if let Ok(mut t) = self.inner.threads.lock() {
            unload_idle(&mut t);
            t.insert(thread.id.clone(), thread);
        }
    }

    /// Loads a thread from disk (or returns the loaded one).
    async fn load(&self, id: &str) -> Result<Arc<LoadedThread>, CoreError> {
        if let Some(t) = self.loaded(id) {
            return Ok(t);
        }
        let loaded = self
            .store()
            .await?
            .load(id)
            .map_err(CoreError::from_store)?;
        let rebuilt = history::rebuild(&loaded.lines);
        let base = self.base_settings();
        let mut settings = ThreadSettings::from_config(base, loaded.record.cwd.clone())?;
        settings.provider_id = loaded.record.model_provider.clone();
        if let Some(model) = rebuilt.last_model.clone().or(loaded.record.model.clone()) {
            settings.model = model;
        }
        // Instructions the thread was started with outlive restarts.
        if let Some(base) = rebuilt.base_instructions.clone() {
            settings.base_instructions = Some(base);
        }
        if let Some(dev) = rebuilt.developer_instructions.clone() {
            settings.developer_instructions = Some(dev);
        }
        if let Some(ctx) = &rebuilt.last_turn_context {
            crate::settings::apply_turn_context(&mut settings, ctx);
        }
        let thread = LoadedThread::new(loaded.record, settings, false);
        {
            let mut st = thread.state.lock().await;
            st.history = rebuilt.history;
            st.usage = rebuilt.usage.unwrap_or_default();
            st.project_docs =
                crate::prompt::project_docs(&st.settings.cwd, base.project_doc_max_bytes);
        }
        // Another request may have loaded it meanwhile; the first one in the map wins.
        let mut threads = self
            .inner
            .threads
            .lock()
            .map_err(|_| CoreError::Internal("thread table poisoned".into()))?;
        if !threads.contains_key(id) {
            unload_idle(&mut threads);
        }
        Ok(threads.entry(id.to_string()).or_insert(thread).clone())
    }

    /// Applies thread/start-style settings params onto settings.
    fn apply_settings(
        &self,
        settings: &mut ThreadSettings,
        p: &ThreadStartParams,
    ) -> Result<(), CoreError> {
        // Only a per-thread `config` map needs the configuration resolved again.
        let cfg = match &p.config {
            Some(map) => {
                let cfg = Arc::new(self.inner.config.settings(&json_to_toml_table(map))?);
                let cwd = settings.cwd.clone();
                *settings = ThreadSettings::from_config(&cfg, cwd)?;
                cfg
            }
            None => self.inner.base_settings.clone(),
        };
        if let Some(m) = &p.model {
            settings.model = m.clone();
        }
        if let Some(mp) = &p.model_provider {
            cfg.provider(mp)?;
            settings.provider_id = mp.clone();
        }
        if let Some(cwd) = &p.cwd {
            settings.cwd = resolve_cwd(cwd)?;
        }
        if let Some(a) = &p.approval_policy {
            settings.approval_policy = a.clone();
        }
        if let Some(r) = p.approvals_reviewer {
            settings.approvals_reviewer = r;
        }
        if let Some(mode) = p.sandbox {
            settings.sandbox = sandbox_policy_for(mode, &cfg);
        }
        if let Some(b) = &p.base_instructions {
            settings.base_instructions = Some(b.clone());
        }
        if let Some(d) = &p.developer_instructions {
            settings.developer_instructions = Some(d.clone());
        }
        Ok(())
    }

    fn settings_response(&self, thread: Thread, s: &ThreadSettings) -> ThreadStartResponse {
        ThreadStartResponse {
            thread,
            model: s.model.clone(),
            model_provider: s.provider_id.clone(),
            service_tier: None,
            cwd: s.cwd.clone(),
            approval_policy: s.approval_policy.clone(),
            approvals_reviewer: s.approvals_reviewer,
            sandbox: s.sandbox.clone(),
            reasoning_effort: s.effort,
            instruction_sources: Vec::new(),
            disabled_plugin_ids: Vec::new(),
        }
    }

    fn new_thread_record(
        &self,
        id: &str,
        s: &ThreadSettings,
        forked_from: Option<String>,
    ) -> NewThread {
        NewThread {
            id: id.to_string(),
            cwd: s.cwd.clone(),
            originator: self.originator(),
            cli_version: codex_protocol::SERVER_VERSION.to_string(),
            source: serde_json::json!("vscode"),
            model_provider: s.provider_id.clone(),
            model: Some(s.model.clone()),
            base_instructions: s.base_instructions.clone(),
            forked_from_id: forked_from,
            created_at: chrono::Utc::now(),
        }
    }

    /// `thread/start`: the thread is persisted before any turn, so it survives a restart.
    pub async fn start_thread(
        &self,
        p: ThreadStartParams,
    ) -> Result<ThreadStartResponse, CoreError> {
        let base = self.base_settings();
        let cwd = std::env::current_dir().map_err(|e| CoreError::Internal(format!("cwd: {e}")))?;
        let mut settings = ThreadSettings::from_config(base, cwd)?;
        self.apply_settings(&mut settings, &p)?;
        // Fail early on an unknown provider rather than at the first turn.
        self.base_settings().provider(&settings.provider_id)?;
        let id = new_id();
        let ephemeral = p.ephemeral.unwrap_or(false);
        let new = self.new_thread_record(&id, &settings, None);
        let record = if ephemeral {
            ephemeral_record(new)
        } else {
            self.store()
                .await?
                .create_thread(new)
                .map_err(CoreError::from_store)?
        };
        let thread = LoadedThread::new(record.clone(), settings.clone(), ephemeral);
        thread.state.lock().await.project_docs =
            crate::prompt::project_docs(&settings.cwd, base.project_doc_max_bytes);
        self.insert_loaded(thread);
        let wire = wire_thread(&record, ThreadStatus::Idle, Vec::new(), ephemeral);
        Ok(self.settings_response(wire, &settings))
    }

    /// Sent by the server after the `thread/start` / `thread/fork` response.
    pub async fn announce_started(&self, thread: &Thread) {
        let mut thread = thread.clone();
        thread.turns.clear();
        self.inner
            .client
            .notify::<m::ThreadStarted>(&ThreadStartedNotification { thread })
            .await;
    }

    async fn thread_view(
        &self,
        thread: &LoadedThread,
        include_turns: bool,
    ) -> Result<Thread, CoreError> {
        // Copy what is needed and release the state lock before reading the file, so a running
        // turn is never held up by a large read.
        let (active_turn, status, record) = {
            let st = thread.state.lock().await;
            let active = st.active.as_ref().map(|a| a.turn_id.clone());
            (active, st.status.clone(), st.record.clone())
        };
        if thread.ephemeral {
            return Ok(wire_thread(&record, status, Vec::new(), true));
        }
        let (fresh, mut turns) = self.stored_thread(&thread.id, include_turns).await?;
        mark_active(&mut turns, active_turn.as_deref());
        Ok(wire_thread(&fresh.unwrap_or(record), status, turns, false))
    }

    /// A thread's record and, when asked, its turns rebuilt from the rollout; the file is read
    /// on the blocking pool so a large thread never stalls the async workers.
    async fn stored_thread(
        &self,
        id: &str,
        include_turns: bool,
    ) -> Result<(Option<ThreadRecord>, Vec<Turn>), CoreError> {
        let store = self.store().await?.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || {
            if include_turns {
                let loaded = store.load(&id)?;
                Ok((Some(loaded.record), history::rebuild(&loaded.lines).turns))
            } else {
                Ok((store.get(&id)?, Vec::new()))
            }
        })
        .await
        .map_err(|e| CoreError::Internal(format!("reading the thread: {e}")))?
        .map_err(CoreError::from_store)
    }

    pub async fn resume_thread(
        &self,
        p: ThreadResumeParams,
    ) -> Result<ThreadResumeResponse, CoreError> {
        let thread = self.load(&p.thread_id).await?;
        let settings = {
            let mut st = thread.state.lock().await;
            let mut s = st.settings.clone();
            self.apply_settings(&mut s, &p.settings)?;
            st.settings = s.clone();
            s
        };
        let view = self
            .thread_view(&thread, !p.exclude_turns.unwrap_or(false))
            .await?;
        Ok(self.settings_response(view, &settings).into())
    }

    pub async fn fork_thread(&self, p: ThreadForkParams) -> Result<ThreadForkResponse, CoreError> {
        let source = self.load(&p.thread_id).await?;
        let mut settings = source.state.lock().await.settings.clone();
        self.apply_settings(&mut settings, &p.settings)?;
        let id = new_id();
        let new = self.new_thread_record(&id, &settings, Some(p.thread_id.clone()));
        if source.ephemeral {
            return Err(CoreError::InvalidRequest(
                "cannot fork an ephemeral thread".into(),
            ));
        }
        let record = self
            .store()
            .await?
            .fork(&p.thread_id, new)
            .map_err(CoreError::from_store)?;
        let forked = self.load(&record.id).await?;
        forked.state.lock().await.settings = settings.clone();
        let view = self
            .thread_view(&forked, !p.exclude_turns.unwrap_or(false))
            .await?;
        Ok(self.settings_response(view, &settings).into())
    }

    pub async fn read_thread(&self, p: ThreadReadParams) -> Result<ThreadReadResponse, CoreError> {
        if let Some(t) = self.loaded(&p.thread_id) {
            return Ok(ThreadReadResponse {
                thread: self.thread_view(&t, p.include_turns).await?,
            });
        }
        let (record, turns) = self.stored_thread(&p.thread_id, p.include_turns).await?;
        let record = record.ok_or_else(|| CoreError::ThreadNotFound(p.thread_id.clone()))?;
        Ok(ThreadReadResponse {
            thread: wire_thread(&record, ThreadStatus::NotLoaded, turns, false),
        })
    }

    pub async fn list_threads(&self, p: ThreadListParams) -> Result<ThreadListResponse, CoreError> {
        let cwds = match p.cwd {
            None => Vec::new(),
            Some(ThreadListCwdFilter::One(c)) => vec![PathBuf::from(c)],
            Some(ThreadListCwdFilter::Many(cs)) => cs.into_iter().map(PathBuf::from).collect(),
        };
        let limit = p
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT) as usize;
        let mut query = ListQuery {
            archived: p.archived.unwrap_or(false),
            cursor: p.cursor,
            limit: Some(limit as u32),
            sort_key: match p.sort_key {
                Some(ThreadSortKey::UpdatedAt) | Some(ThreadSortKey::RecencyAt) => {
                    SortKey::UpdatedAt
                }
                _ => SortKey::CreatedAt,
            },
            descending: p.sort_direction != Some(SortDirection::Asc),
            cwds,
            search_term: p.search_term.filter(|s| !s.is_empty()),
            model_providers: p.model_providers.unwrap_or_default(),
        };
        // Filters the index does not know are applied here. Each query asks for exactly the
        // rows still missing, so its cursor stays valid for the rows this page keeps.
        let filter = ListFilter {
            source_kinds: p.source_kinds.unwrap_or_default(),
            excluded: p.excluded_thread_ids.unwrap_or_default(),
            originators: p.originators.unwrap_or_default(),
        };
        let store = self.store().await?;
        let mut records = Vec::with_capacity(limit);
        let mut scanned = 0usize;
        let next_cursor = loop {
            let page = store.list(&query).map_err(CoreError::from_store)?;
            scanned += page.data.len();
            records.extend(page.data.into_iter().filter(|r| filter.keeps(r)));
            let missing = limit - records.len().min(limit);
            match page.next_cursor {
                Some(cursor) if missing > 0 && scanned < MAX_LIST_SCAN => {
                    query.cursor = Some(cursor);
                    query.limit = Some(missing as u32);
                }
                // A short page with a cursor is still a valid page: the client continues.
                other => break other,
            }
        };
        let mut data = Vec::with_capacity(records.len());
        for record in records {
            let status = match self.loaded(&record.id) {
                Some(t) => t.state.lock().await.status.clone(),
                None => ThreadStatus::NotLoaded,
            };
            data.push(wire_thread(&record, status, Vec::new(), false));
        }
        Ok(ThreadListResponse {
            data,
            next_cursor,
            backwards_cursor: None,
        })
    }

    fn require_persisted(&self, id: &str) -> Result<(), CoreError> {
        if self.loaded(id).is_some_and(|t| t.ephemeral) {
            return Err(CoreError::InvalidRequest(format!(
                "thread {id} is ephemeral"
            )));
        }
        Ok(())
    }

    pub async fn archive(&self, id: &str) -> Result<(), CoreError> {
        self.require_persisted(id)?;
        if let Some(t) = self.loaded(id) {
            if t.state.lock().await.active.is_some() {
                return Err(CoreError::InvalidRequest(format!(
                    "thread {id} has a running turn; interrupt it before archiving"
                )));
            }
        }
        self.store()
            .await?
            .archive(id)
            .map_err(CoreError::from_store)?;
        if let Ok(mut threads) = self.inner.threads.lock() {
            threads.remove(id);
        }
        self.inner
            .client
            .notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: id.to_string(),
                status: ThreadStatus::NotLoaded,
            })
            .await;
        Ok(())
    }

    pub async fn announce_archived(&self, id: &str) {
        self.inner
            .client
            .notify::<m::ThreadArchived>(&ThreadArchivedNotification {
                thread_id: id.to_string(),
            })
            .await;
    }

    pub async fn unarchive(&self, id: &str) -> Result<Thread, CoreError> {
        let record = self
            .store()
            .await?
            .unarchive(id)
            .map_err(CoreError::from_store)?;
        Ok(wire_thread(
            &record,
            ThreadStatus::NotLoaded,
            Vec::new(),
            false,
        ))
    }

    pub async fn announce_unarchived(&self, id: &str) {
        self.inner
            .client
            .notify::<m::ThreadUnarchived>(&ThreadUnarchivedNotification {
                thread_id: id.to_string(),
            })
            .await;
    }

    pub async fn set_name(&self, id: &str, name: &str) -> Result<(), CoreError> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(CoreError::InvalidParams("name must not be empty".into()));
        }
        if let Some(t) = self.loaded(id) {
            let mut st = t.state.lock().await;
            if t.ephemeral {
                st.record.name = Some(trimmed.to_string());
                return Ok(());
            }
            st.record = self
                .store()
                .await?
                .set_name(id, trimmed)
                .map_err(CoreError::from_store)?;
        } else {
            self.store()
                .await?
                .set_name(id, trimmed)
                .map_err(CoreError::from_store)?;
        }
        Ok(())
    }

    pub async fn announce_renamed(&self, id: &str, name: &str) {
        self.inner
            .client
            .notify::<m::ThreadNameUpdated>(&ThreadNameUpdatedNotification {
                thread_id: id.to_string(),
                thread_name: Some(name.trim().to_string()),
            })
            .await;
    }

    pub fn loaded_thread_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .inner
            .threads
            .lock()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    /// `turn/start`. A thread with a running regular turn takes the input into that turn (the
    /// official 0.163 behaviour) and answers with its id; otherwise a new turn is prepared and
    /// must be launched by the caller after the response is sent.
    pub async fn start_turn(
        &self,
        p: TurnStartParams,
    ) -> Result<(TurnStartResponse, Option<TurnLaunch>), CoreError> {
        if p.input.is_empty() {
            return Err(CoreError::InvalidParams("input must not be empty".into()));
        }
        crate::input::validate(&p.input)?;
        let thread = self.load(&p.thread_id).await?;
        let mut st = thread.state.lock().await;
        // A turn that is ending takes no more input: wait for it, then start a new one.
        while let Some(active) = st.active.as_ref().filter(|a| a.closing) {
            let mut finished = active.finished.subscribe();
            drop(st);
            let _ = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                finished.wait_for(|done| *done),
            )
            .await;
            st = thread.state.lock().await;
        }
        if let Some(active) = &st.active {
            if active.kind == TurnKind::Regular {
                if let Ok(mut pending) = active.pending_input.lock() {
                    pending.push(p.input.clone());
                }
                let turn = in_progress_turn(&active.turn_id, Some(active.started_at));
                return Ok((TurnStartResponse { turn }, None));
            }
            return Err(CoreError::InvalidRequest(format!(
                "thread {} is compacting; retry when the compaction turn completes",
                p.thread_id
            )));
        }
        // Per-turn overrides persist to later turns; the output schema is for this turn only.
        let mut settings = st.settings.clone();
        if let Some(m) = &p.model {
            settings.model = m.clone();
        }
        if let Some(e) = p.effort {
            settings.effort = Some(e);
        }
        if let Some(s) = p.summary {
            settings.summary = Some(s);
        }
        if let Some(cwd) = &p.cwd {
            settings.cwd = resolve_cwd(cwd)?;
        }
        if let Some(a) = &p.approval_policy {
            settings.approval_policy = a.clone();
        }
        if let Some(r) = p.approvals_reviewer {
            settings.approvals_reviewer = r;
        }
        if let Some(sp) = &p.sandbox_policy {
            settings.sandbox = sp.clone();
        }
        if settings.cwd != st.settings.cwd {
            let base = self.base_settings();
            st.project_docs =
                crate::prompt::project_docs(&settings.cwd, base.project_doc_max_bytes);
        }
        st.settings = settings;
        let launch = self.begin_turn(
            &thread,
            &mut st,
            TurnKind::Regular,
            TurnRequest::User {
                input: p.input,
                output_schema: p.output_schema,
            },
        );
        let turn = in_progress_turn(&launch.turn_id, None);
        Ok((TurnStartResponse { turn }, Some(launch)))
    }

    fn begin_turn(
        &self,
        thread: &Arc<LoadedThread>,
        st: &mut ThreadState,
        kind: TurnKind,
        request: TurnRequest,
    ) -> TurnLaunch {
        let turn_id = new_id();
        let cancel = self.inner.shutdown.child_token();
        let pending = Arc::new(Mutex::new(Vec::new()));
        let finished = Arc::new(tokio::sync::watch::channel(false).0);
        let started_at = now_secs();
        st.active = Some(ActiveTurn {
            turn_id: turn_id.clone(),
            kind,
            cancel: cancel.clone(),
            pending_input: pending.clone(),
            finished: finished.clone(),
            started_at,
            closing: false,
        });
        st.status = ThreadStatus::Active {
            active_flags: Vec::new(),
        };
        TurnLaunch {
            runtime: self.clone(),
            thread: thread.clone(),
            turn_id,
            kind,
            request,
            cancel,
            pending_input: pending,
            finished,
            started_at,
        }
    }

    pub async fn steer(&self, p: TurnSteerParams) -> Result<TurnSteerResponse, CoreError> {
        if p.input.is_empty() {
            return Err(CoreError::InvalidParams("input must not be empty".into()));
        }
        crate::input::validate(&p.input)?;
        let thread = self
            .loaded(&p.thread_id)
            .ok_or_else(|| CoreError::InvalidRequest("no active turn to steer".into()))?;
        let st = thread.state.lock().await;
        let active = st
            .active
            .as_ref()
            .ok_or_else(|| CoreError::InvalidRequest("no active turn to steer".into()))?;
        if active.turn_id != p.expected_turn_id {
            return Err(CoreError::InvalidRequest(format!(
                "expected active turn id `{}` but found `{}`",
                p.expected_turn_id, active.turn_id
            )));
        }
        if active.closing {
            return Err(CoreError::InvalidRequest("no active turn to steer".into()));
        }
        if active.kind != TurnKind::Regular {
            return Err(CoreError::InvalidRequest(
                "the active turn is a compaction and cannot be steered".into(),
            ));
        }
        if let Ok(mut pending) = active.pending_input.lock() {
            pending.push(p.input);
        }
        Ok(TurnSteerResponse {
            turn_id: active.turn_id.clone(),
        })
    }

    /// Cancels the turn and waits until it has recorded its end, so that `{}` means "stopped".
    /// Checks that `p` names the running turn and returns the means to stop it. The caller
    /// answers `{}` first and then stops the turn, so the answer precedes `turn/completed`, in
    /// the order the official server uses.
    pub async fn prepare_interrupt(&self, p: TurnInterruptParams) -> Result<Interrupt, CoreError> {
        let thread = self
            .loaded(&p.thread_id)
            .ok_or_else(|| CoreError::InvalidRequest("no active turn to interrupt".into()))?;
        let st = thread.state.lock().await;
        let active = st
            .active
            .as_ref()
            .ok_or_else(|| CoreError::InvalidRequest("no active turn to interrupt".into()))?;
        if active.turn_id != p.turn_id {
            return Err(CoreError::InvalidRequest(format!(
                "expected active turn id {} but found {}",
                p.turn_id, active.turn_id
            )));
        }
        Ok(Interrupt {
            cancel: active.cancel.clone(),
            finished: active.finished.subscribe(),
        })
    }

    /// Validates and stops the turn in one call (for callers with no response to order).
    pub async fn interrupt(&self, p: TurnInterruptParams) -> Result<(), CoreError> {
        self.prepare_interrupt(p).await?.stop().await;
        Ok(())
    }

    /// `thread/compact/start`: a compaction turn, launched by the caller after `{}` is sent.
    pub async fn compact(&self, id: &str) -> Result<TurnLaunch, CoreError> {
        let thread = self.load(id).await?;
        let mut st = thread.state.lock().await;
        if st.active.is_some() {
            return Err(CoreError::InvalidRequest(format!(
                "thread {id} has a running turn"
            )));
        }
        Ok(self.begin_turn(&thread, &mut st, TurnKind::Compact, TurnRequest::Compact))
    }

    /// The settings resolved from the configuration at start-up.
    pub(crate) fn base_settings(&self) -> &crate::config::Settings {
        &self.inner.base_settings
    }

    /// The model client for a provider, created on first use and then shared.
    pub(crate) fn model_client(
        &self,
        provider_id: &str,
    ) -> Result<codex_model::ModelClient, CoreError> {
        if let Some(client) = self
            .inner
            .model_clients
            .lock()
            .ok()
            .and_then(|c| c.get(provider_id).cloned())
        {
            return Ok(client);
        }
        let provider = self.inner.base_settings.provider(provider_id)?;
        let key = codex_model::resolve_api_key(&provider, self.codex_home());
        let client = codex_model::ModelClient::new(provider, key)
            .map_err(|e| CoreError::Internal(format!("model client: {e}")))?;
        if let Ok(mut clients) = self.inner.model_clients.lock() {
            clients.insert(provider_id.to_string(), client.clone());
        }
        Ok(client)
    }

    /// Forgets cached clients, e.g. after the stored credentials changed.
    pub(crate) fn reset_model_clients(&self) {
        if let Ok(mut clients) = self.inner.model_clients.lock() {
            clients.clear();
        }
    }
}

/// A validated `turn/interrupt`, ready to stop its turn.
pub struct Interrupt {
    cancel: CancellationToken,
    finished: tokio::sync::watch::Receiver<bool>,
}

impl Interrupt {
    /// Cancels the turn and waits (bounded) until it has recorded its end, so requests queued
    /// behind this one on the thread see the thread idle.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            self.finished.wait_for(|done| *done),
        )
        .await;
    }
}

const DEFAULT_LIST_LIMIT: u32 = 25;
const MAX_LIST_LIMIT: u32 = 200;
/// Rows one `thread/list` call may skip over for filters the index cannot apply.
const MAX_LIST_SCAN: usize = 10_000;

/// `thread/list` filters applied outside the index.
struct ListFilter {
    source_kinds: Vec<ThreadSourceKind>,
    excluded: Vec<String>,
    originators: Vec<String>,
}

impl ListFilter {
    fn keeps(&self, r: &ThreadRecord) -> bool {
        (self.excluded.is_empty() || !self.excluded.contains(&r.id))
            && (self.originators.is_empty() || self.originators.contains(&r.originator))
            && (self.source_kinds.is_empty()
                || source_kinds_of(&r.source)
                    .iter()
                    .any(|k| self.source_kinds.contains(k)))
    }
}

/// The `thread/list` source kinds a stored `source` value belongs to.
fn source_kinds_of(source: &serde_json::Value) -> Vec<ThreadSourceKind> {
    use ThreadSourceKind as K;
    match source {
        serde_json::Value::String(s) => vec![match s.as_str() {
            "cli" => K::Cli,
            "vscode" => K::Vscode,
            "exec" => K::Exec,
            "appServer" | "mcp" => K::AppServer,
            _ => K::Unknown,
        }],
        serde_json::Value::Object(o) => {
            let Some(sub) = o.get("subAgent").or_else(|| o.get("subagent")) else {
                return vec![K::Unknown];
            };
            let specific = match sub {
                serde_json::Value::String(s) if s == "review" => K::SubAgentReview,
                serde_json::Value::String(s) if s == "compact" => K::SubAgentCompact,
                serde_json::Value::Object(o) if o.contains_key("thread_spawn") => {
                    K::SubAgentThreadSpawn
                }
                _ => K::SubAgentOther,
            };
            vec![K::SubAgent, specific]
        }
        _ => vec![K::Unknown],
    }
}

/// Loaded threads kept in memory before idle ones are unloaded (they reload from disk).
const MAX_LOADED_THREADS: usize = 256;

/// Keeps the table of loaded threads bounded: past the cap, persisted threads that nobody
/// holds and that have no running turn are dropped; their state is rebuilt from the rollout on
/// next use. Ephemeral threads live only here, so they stay.
fn unload_idle(threads: &mut HashMap<String, Arc<LoadedThread>>) {
    if threads.len() < MAX_LOADED_THREADS {
        return;
    }
    threads.retain(|_, t| {
        let idle = !t.ephemeral
            && Arc::strong_count(t) == 1
            && t.state.try_lock().is_ok_and(|st| st.active.is_none());
        !idle
    });
}

fn ephemeral_record(new: NewThread) -> ThreadRecord {
    let ts = new.created_at.timestamp();
    ThreadRecord {
        id: new.id,
        path: PathBuf::new(),
        created_at: ts,
        updated_at: ts,
        cwd: new.cwd,
        model_provider: new.model_provider,
        model: new.model,
        source: new.source,
        cli_version: new.cli_version,
        originator: new.originator,
        name: None,
        preview: String::new(),
        archived: false,
        forked_from_id: None,
    }
}

fn in_progress_turn(id: &str, started_at: Option<i64>) -> Turn {
    Turn {
        id: id.to_string(),
        items: Vec::new(),
        items_view: TurnItemsView::NotLoaded,
        status: TurnStatus::InProgress,
        error: None,
        started_at,
        completed_at: None,
        duration_ms: None,
        usage: None,
    }
}

fn resolve_cwd(cwd: &str) -> Result<PathBuf, CoreError> {
    let p = PathBuf::from(cwd);
    let p = if p.is_absolute() {
        p
    } else {
        std::env::current_dir()
            .map_err(|e| CoreError::Internal(format!("cwd: {e}")))?
            .join(p)
    };
    if !p.is_dir() {
        return Err(CoreError::InvalidParams(format!(
            "cwd: {} is not a directory",
            p.display()
        )));
    }
    Ok(p)
}

/// `<name>/<version> (<os> <os version>; <arch>) <terminal> (<name>; <client version>)`.
pub fn user_agent(client_name: &str, client_version: &str) -> String {
    let os = os_release().unwrap_or_else(|| std::env::consts::OS.to_string());
    let term = std::env::var("TERM").unwrap_or_else(|_| "unknown".into());
    format!(
        "{client_name}/{} ({os}; {}) {term} ({client_name}; {client_version})",
        codex_protocol::SERVER_VERSION,
        std::env::consts::ARCH,
    )
}

fn os_release() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(|v| v.trim_matches('"').to_string())
    };
    Some(
        format!(
            "{} {}",
            field("NAME")?,
            field("VERSION_ID").unwrap_or_default()
        )
        .trim()
        .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(id: &str, ephemeral: bool) -> Arc<LoadedThread> {
        let base = crate::config::Settings::from_table(&toml::Table::new()).unwrap();
        let settings = ThreadSettings::from_config(&base, PathBuf::from("/w")).unwrap();
        let record = ephemeral_record(NewThread {
            id: id.to_string(),
            cwd: PathBuf::from("/w"),
            originator: "t".into(),
            cli_version: "0".into(),
            source: serde_json::json!("vscode"),
            model_provider: "openai".into(),
            model: None,
            base_instructions: None,
            forked_from_id: None,
            created_at: chrono::Utc::now(),
        });
        LoadedThread::new(record, settings, ephemeral)
    }

    #[test]
    fn sources_map_to_list_kinds() {
        use ThreadSourceKind as K;
        assert_eq!(
            source_kinds_of(&serde_json::json!("vscode")),
            vec![K::Vscode]
        );
        assert_eq!(
            source_kinds_of(&serde_json::json!({"subagent": "review"})),
            vec![K::SubAgent, K::SubAgentReview]
        );
        assert_eq!(
            source_kinds_of(&serde_json::json!({"subAgent": {"thread_spawn": {}}})),
            vec![K::SubAgent, K::SubAgentThreadSpawn]
        );
    }

    #[test]
    fn idle_threads_are_unloaded_past_the_cap_but_held_and_ephemeral_ones_stay() {
        let mut table = HashMap::new();
        for i in 0..MAX_LOADED_THREADS {
            table.insert(format!("t{i}"), thread(&format!("t{i}"), false));
        }
        let held = table["t1"].clone();
        table.insert("e".into(), thread("e", true));
        unload_idle(&mut table);
        let mut left: Vec<&String> = table.keys().collect();
        left.sort();
        assert_eq!(left, vec!["e", "t1"]);
        drop(held);
    }
}
