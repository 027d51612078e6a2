//! Thread operations: start, resume, fork, list, read, archive, unarchive, rename, compact.

use super::Runtime;
use crate::error::CoreError;
use crate::history;
use crate::identity::Caller;
use crate::list::{ListPlan, MAX_LIST_SCAN};
use crate::reply::Reply;
use crate::settings::{Overlay, ThreadSettings};
use crate::thread::{mark_active, wire_thread, LoadedThread, TurnKind};
use crate::turn::TurnRequest;
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use codex_store::{NewThread, ThreadRecord};
use std::path::PathBuf;

impl Runtime {
    /// `thread/start`: the thread is persisted before any turn, so it survives a restart.
    /// `thread/started` follows the answer.
    pub async fn start_thread(
        &self,
        caller: &Caller,
        p: ThreadStartParams,
        reply: Reply<ThreadStartResponse>,
    ) {
        let result = self.create_thread(caller, p).await;
        let thread = result.as_ref().ok().map(|r| r.thread.clone());
        if reply.send(result).await {
            if let Some(thread) = thread {
                let id = thread.id.clone();
                self.announce_started(thread).await;
                // In the background: the client hears of each server's start-up.
                self.start_mcp(&id);
            }
        }
    }

    async fn create_thread(
        &self,
        caller: &Caller,
        p: ThreadStartParams,
    ) -> Result<ThreadStartResponse, CoreError> {
        let inner = &self.inner;
        let settings = self.new_thread_settings(&p)?;
        // Fail early on an unknown provider rather than at the first turn.
        settings.resolved.provider(&settings.provider_id)?;
        super::client_tools::check(caller, p.dynamic_tools.as_deref())?;
        let overlay = p
            .config
            .as_ref()
            .map(crate::config::table_from_json)
            .unwrap_or_default();
        let tools_config = inner.tools_config.resolve(&overlay)?;
        let id = crate::clock::new_id();
        let ephemeral = p.ephemeral.unwrap_or(false);
        let mut new = new_thread_record(caller, &id, &settings, None);
        new.dynamic_tools = super::client_tools::to_rollout(p.dynamic_tools.as_deref());
        let record = if ephemeral {
            ephemeral_record(new)
        } else {
            inner.store.create_thread(new).await?
        };
        let project_docs =
            crate::prompt::project_docs(&settings.cwd, settings.resolved.project_doc_max_bytes);
        let thread = LoadedThread::new(record.clone(), settings.clone(), ephemeral);
        thread.state.lock().await.project_docs = project_docs;
        super::client_tools::register(
            &thread,
            p.dynamic_tools.unwrap_or_default(),
            tools_config.dynamic_timeout,
        );
        self.attach_mcp(
            &thread,
            tools_config.mcp,
            overlay,
            settings.approval_policy.clone(),
        );
        inner.threads.insert(thread);
        let wire = wire_thread(&record, ThreadStatus::Idle, Vec::new(), ephemeral);
        Ok(settings_response(wire, &settings))
    }

    /// A new thread's settings: the live configuration with the project layers of its working
    /// directory and its `config` map (dotted keys), then the request's own settings.
    fn new_thread_settings(&self, p: &ThreadStartParams) -> Result<ThreadSettings, CoreError> {
        let inner = &self.inner;
        let default_cwd = &inner.options.default_cwd;
        let cwd = match p.cwd.as_deref() {
            Some(cwd) => crate::settings::resolve_cwd(default_cwd, cwd)?,
            None => default_cwd.clone(),
        };
        let extra = p
            .config
            .as_ref()
            .map(crate::config::table_from_json)
            .unwrap_or_default();
        let resolved = inner.config.settings_for_thread(&cwd, &extra)?;
        let mut settings = ThreadSettings::from_config(&resolved, cwd)?;
        // The working directory and the map are applied above.
        let overlay = Overlay {
            config: None,
            cwd: None,
            ..Overlay::thread(p)
        };
        overlay.apply(&mut settings, &inner.config, default_cwd)?;
        Ok(settings)
    }

    pub(super) async fn announce_started(&self, mut thread: Thread) {
        thread.turns.clear();
        self.inner
            .sink
            .for_thread(&thread.id.clone())
            .notify::<m::ThreadStarted>(&ThreadStartedNotification { thread })
            .await;
    }

    /// `thread/resume`: loads the thread and applies the request's settings.
    pub async fn resume_thread(
        &self,
        p: ThreadResumeParams,
    ) -> Result<ThreadResumeResponse, CoreError> {
        let thread = self.load(&p.thread_id).await?;
        let settings = {
            let mut st = thread.state.lock().await;
            let mut s = st.settings.clone();
            let inner = &self.inner;
            Overlay::thread(&p.settings).apply(
                &mut s,
                &inner.config,
                &inner.options.default_cwd,
            )?;
            st.settings = s.clone();
            s
        };
        if let Some(map) = &p.settings.config {
            let overlay = crate::config::table_from_json(map);
            self.reconfigure_mcp(&thread, Some(overlay), settings.approval_policy.clone())?;
        }
        thread
            .tools
            .resource::<crate::tools::ThreadMcp>()
            .set_policy(settings.approval_policy.clone());
        let view = self
            .thread_view(&thread, !p.exclude_turns.unwrap_or(false))
            .await?;
        let view = self.with_git(view).await;
        Ok(settings_response(view, &settings).into())
    }

    /// `thread/fork`: a new thread with the source's history; `thread/started` follows.
    pub async fn fork_thread(
        &self,
        caller: &Caller,
        p: ThreadForkParams,
        reply: Reply<ThreadForkResponse>,
    ) {
        let result = self.fork(caller, p).await;
        let thread = result.as_ref().ok().map(|r| r.thread.clone());
        if reply.send(result).await {
            if let Some(thread) = thread {
                self.announce_started(thread).await;
            }
        }
    }

    pub(super) async fn fork(
        &self,
        caller: &Caller,
        p: ThreadForkParams,
    ) -> Result<ThreadForkResponse, CoreError> {
        let inner = &self.inner;
        let source = self.load(&p.thread_id).await?;
        let mut settings = source.state.lock().await.settings.clone();
        Overlay::thread(&p.settings).apply(
            &mut settings,
            &inner.config,
            &inner.options.default_cwd,
        )?;
        let id = crate::clock::new_id();
        let mut new = new_thread_record(caller, &id, &settings, Some(p.thread_id.clone()));
        // The fork keeps the client-defined tools of its source.
        new.dynamic_tools =
            super::client_tools::to_rollout(super::client_tools::of_thread(&source).as_deref());
        if source.ephemeral {
            return Err(CoreError::InvalidRequest(
                "cannot fork an ephemeral thread".into(),
            ));
        }
        let record = inner.store.fork(&p.thread_id, new).await?;
        let forked = self.load(&record.id).await?;
        forked.state.lock().await.settings = settings.clone();
        if let Some(map) = &p.settings.config {
            let overlay = crate::config::table_from_json(map);
            self.reconfigure_mcp(&forked, Some(overlay), settings.approval_policy.clone())?;
        }
        let view = self
            .thread_view(&forked, !p.exclude_turns.unwrap_or(false))
            .await?;
        Ok(settings_response(view, &settings).into())
    }

    /// The wire view of a loaded thread, turns read from disk when asked.
    async fn thread_view(
        &self,
        thread: &LoadedThread,
        include_turns: bool,
    ) -> Result<Thread, CoreError> {
        // Copy what is needed and release the state lock before reading the file, so a running
        // turn is never held up by a large read.
        let (active_turn, record) = {
            let st = thread.state.lock().await;
            let active = st.active.as_ref().map(|a| a.turn_id.clone());
            (active, st.record.clone())
        };
        let status = thread.status.get();
        if thread.ephemeral {
            return Ok(wire_thread(&record, status, Vec::new(), true));
        }
        let (fresh, mut turns) = self.stored_thread(&thread.id, include_turns).await?;
        mark_active(&mut turns, active_turn.as_deref());
        Ok(wire_thread(&fresh.unwrap_or(record), status, turns, false))
    }

    /// A thread's record and, when asked, its turns rebuilt from the rollout.
    async fn stored_thread(
        &self,
        id: &str,
        include_turns: bool,
    ) -> Result<(Option<ThreadRecord>, Vec<Turn>), CoreError> {
        if include_turns {
            let loaded = self.inner.store.load(id).await?;
            let turns = history::rebuild(&loaded.lines).turns;
            Ok((Some(loaded.record), turns))
        } else {
            Ok((self.inner.store.get(id).await?, Vec::new()))
        }
    }

    /// `thread/read`.
    pub async fn read_thread(&self, p: ThreadReadParams) -> Result<ThreadReadResponse, CoreError> {
        let thread = match self.inner.threads.get(&p.thread_id) {
            Some(t) => self.thread_view(&t, p.include_turns).await?,
            None => {
                let (record, turns) = self.stored_thread(&p.thread_id, p.include_turns).await?;
                let record =
                    record.ok_or_else(|| CoreError::ThreadNotFound(p.thread_id.clone()))?;
                wire_thread(&record, ThreadStatus::NotLoaded, turns, false)
            }
        };
        Ok(ThreadReadResponse {
            thread: self.with_git(thread).await,
        })
    }

    /// `thread/list`: a page of the index, with the filters the index cannot apply.
    pub async fn list_threads(&self, p: ThreadListParams) -> Result<ThreadListResponse, CoreError> {
        let ListPlan {
            mut query,
            limit,
            filter,
        } = ListPlan::new(p);
        let mut records = Vec::with_capacity(limit);
        let mut scanned = 0usize;
        // Each query asks for exactly the rows still missing, so its cursor stays valid for
        // the rows this page keeps.
        let next_cursor = loop {
            let page = self.inner.store.list(query.clone()).await?;
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
        let data = records
            .into_iter()
            .map(|record| {
                let status = match self.inner.threads.get(&record.id) {
                    Some(t) => t.status.get(),
                    None => ThreadStatus::NotLoaded,
                };
                wire_thread(&record, status, Vec::new(), false)
            })
            .collect();
        Ok(ThreadListResponse {
            data,
            next_cursor,
            backwards_cursor: None,
        })
    }

    /// `thread/loaded/list`.
    pub fn loaded_threads(&self) -> ThreadLoadedListResponse {
        ThreadLoadedListResponse {
            data: self.inner.threads.ids(),
            next_cursor: None,
        }
    }

    pub(super) fn require_persisted(&self, id: &str) -> Result<(), CoreError> {
        if self.inner.threads.get(id).is_some_and(|t| t.ephemeral) {
            return Err(CoreError::InvalidRequest(format!(
                "thread {id} is ephemeral"
            )));
        }
        Ok(())
    }

    /// `thread/archive`: the thread is unloaded and announced `notLoaded` (before the answer,
    /// as the official server does), then `thread/archived` follows the answer.
    pub async fn archive_thread(
        &self,
        p: ThreadArchiveParams,
        reply: Reply<ThreadArchiveResponse>,
    ) {
        let id = p.thread_id;
        let result = self.archive(&id).await;
        let sink = self.inner.sink.for_thread(&id);
        if result.is_ok() {
            sink.notify::<m::ThreadStatusChanged>(&ThreadStatusChangedNotification {
                thread_id: id.clone(),
                status: ThreadStatus::NotLoaded,
            })
            .await;
        }
        if reply.send(result.map(|()| ThreadArchiveResponse {})).await {
            sink.notify::<m::ThreadArchived>(&ThreadArchivedNotification { thread_id: id })
                .await;
        }
    }

    async fn archive(&self, id: &str) -> Result<(), CoreError> {
        self.require_persisted(id)?;
        if let Some(t) = self.inner.threads.get(id) {
            if t.state.lock().await.active.is_some() {
                return Err(CoreError::InvalidRequest(format!(
                    "thread {id} has a running turn; interrupt it before archiving"
                )));
            }
        }
        // Nor under a turn another server runs (moving its rollout would lose its writes).
        self.require_not_running_elsewhere(id).await?;
        self.inner.store.archive(id).await?;
        self.inner.threads.remove(id);
        Ok(())
    }

    /// `thread/unarchive`; `thread/unarchived` follows the answer.
    pub async fn unarchive_thread(
        &self,
        p: ThreadUnarchiveParams,
        reply: Reply<ThreadUnarchiveResponse>,
    ) {
        let id = p.thread_id;
        let result = self
            .inner
            .store
            .unarchive(&id)
            .await
            .map(|record| ThreadUnarchiveResponse {
                thread: wire_thread(&record, ThreadStatus::NotLoaded, Vec::new(), false),
            });
        if reply.send(result).await {
            self.inner
                .sink
                .for_thread(&id)
                .notify::<m::ThreadUnarchived>(&ThreadUnarchivedNotification {
                    thread_id: id.clone(),
                })
                .await;
        }
    }

    /// `thread/name/set`; `thread/name/updated` follows the answer.
    pub async fn set_thread_name(
        &self,
        p: ThreadSetNameParams,
        reply: Reply<ThreadSetNameResponse>,
    ) {
        let name = p.name.trim().to_string();
        let result = self.set_name(&p.thread_id, &name).await;
        if reply.send(result.map(|()| ThreadSetNameResponse {})).await {
            self.inner
                .sink
                .for_thread(&p.thread_id)
                .notify::<m::ThreadNameUpdated>(&ThreadNameUpdatedNotification {
                    thread_id: p.thread_id.clone(),
                    thread_name: Some(name),
                })
                .await;
        }
    }

    async fn set_name(&self, id: &str, name: &str) -> Result<(), CoreError> {
        if name.is_empty() {
            return Err(CoreError::InvalidParams("name must not be empty".into()));
        }
        match self.inner.threads.get(id) {
            Some(t) => {
                let mut st = t.state.lock().await;
                if t.ephemeral {
                    st.record.name = Some(name.to_string());
                    return Ok(());
                }
                st.record = self.inner.store.set_name(id, name).await?;
            }
            None => {
                self.inner.store.set_name(id, name).await?;
            }
        }
        Ok(())
    }

    /// Adds `tool` to a loaded thread's tools (replacing one of the same name), from its next
    /// model request on: for tools that come and go while the thread is open (MCP servers,
    /// client-defined tools).
    ///
    /// # Errors
    /// [`CoreError::InvalidRequest`] when the thread is not loaded.
    pub fn register_tool(
        &self,
        thread_id: &str,
        tool: std::sync::Arc<dyn crate::tools::Tool>,
    ) -> Result<(), CoreError> {
        let thread = self.inner.threads.get(thread_id).ok_or_else(|| {
            CoreError::InvalidRequest(format!("thread {thread_id} is not loaded"))
        })?;
        thread.registry.register(tool);
        Ok(())
    }

    /// Removes the tool called `name` from a loaded thread; false when there was none.
    pub fn remove_tool(&self, thread_id: &str, name: &str) -> bool {
        self.inner
            .threads
            .get(thread_id)
            .is_some_and(|thread| thread.registry.remove(name))
    }

    /// `thread/compact/start`: a compaction turn, launched after the answer.
    pub async fn compact_thread(
        &self,
        caller: &Caller,
        p: ThreadCompactStartParams,
        reply: Reply<ThreadCompactStartResponse>,
    ) {
        let prepared = async {
            let thread = self.load(&p.thread_id).await?;
            let mut st = thread.state.lock().await;
            if st.active.is_some() {
                return Err(CoreError::InvalidRequest(format!(
                    "thread {} has a running turn",
                    p.thread_id
                )));
            }
            self.claim_for_turn(&thread, &mut st).await?;
            Ok(self.begin_turn(
                caller,
                &thread,
                &mut st,
                TurnKind::Compact,
                TurnRequest::Compact,
            ))
        }
        .await;
        match prepared {
            Ok(launch) => {
                reply.send(Ok(ThreadCompactStartResponse {})).await;
                launch.launch();
            }
            Err(e) => {
                reply.send(Err(e)).await;
            }
        }
    }
}

fn settings_response(thread: Thread, s: &ThreadSettings) -> ThreadStartResponse {
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
    caller: &Caller,
    id: &str,
    s: &ThreadSettings,
    forked_from: Option<String>,
) -> NewThread {
    NewThread {
        id: id.to_string(),
        cwd: s.cwd.clone(),
        originator: caller.client.name.clone(),
        cli_version: codex_protocol::SERVER_VERSION.to_string(),
        source: serde_json::json!("vscode"),
        model_provider: s.provider_id.clone(),
        model: Some(s.model.clone()),
        base_instructions: s.base_instructions.clone(),
        dynamic_tools: None,
        forked_from_id: forked_from,
        created_at: chrono::Utc::now(),
    }
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
