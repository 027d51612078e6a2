//! Turn operations: start (or join the running turn), steer, interrupt.

use super::Runtime;
use crate::error::CoreError;
use crate::identity::Caller;
use crate::reply::Reply;
use crate::settings::Overlay;
use crate::thread::TurnKind;
use crate::turn::{TurnLaunch, TurnRequest};
use codex_protocol::v2::*;
use std::time::Duration;

/// How long `turn/start` waits for a turn that is ending before starting the next.
const ENDING_TURN_WAIT: Duration = Duration::from_secs(30);
/// How long `turn/interrupt` waits for the turn to record its end.
const INTERRUPT_WAIT: Duration = Duration::from_secs(10);

impl Runtime {
    /// `turn/start`. A thread with a running regular turn takes the input into that turn (the
    /// official 0.163 behaviour) and answers with its id; otherwise a new turn starts after
    /// the answer.
    pub async fn start_turn(
        &self,
        caller: &Caller,
        p: TurnStartParams,
        reply: Reply<TurnStartResponse>,
    ) {
        match self.prepare_turn(caller, p).await {
            Ok((response, launch)) => {
                if reply.send(Ok(response)).await {
                    if let Some(launch) = launch {
                        launch.launch();
                    }
                }
            }
            Err(e) => {
                reply.send(Err(e)).await;
            }
        }
    }

    async fn prepare_turn(
        &self,
        caller: &Caller,
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
            let _ = tokio::time::timeout(ENDING_TURN_WAIT, finished.wait_for(|done| *done)).await;
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
                "thread {} is running a {} turn; retry when it completes",
                p.thread_id,
                active.kind.noun()
            )));
        }
        // One server at a time runs turns on a thread (servers may share the store).
        self.claim_for_turn(&thread, &mut st).await?;
        // Per-turn overrides persist to later turns; the output schema is for this turn only.
        let mut settings = st.settings.clone();
        let inner = &self.inner;
        if let Err(e) =
            Overlay::turn(&p).apply(&mut settings, &inner.config, &inner.options.default_cwd)
        {
            self.unclaim(&thread).await;
            return Err(e);
        }
        if settings.cwd != st.settings.cwd {
            st.project_docs =
                crate::prompt::project_docs(&settings.cwd, settings.resolved.project_doc_max_bytes);
        }
        st.settings = settings;
        let launch = self.begin_turn(
            caller,
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

    /// `turn/steer`: input for the running turn's next model request.
    pub async fn steer_turn(&self, p: TurnSteerParams) -> Result<TurnSteerResponse, CoreError> {
        if p.input.is_empty() {
            return Err(CoreError::InvalidParams("input must not be empty".into()));
        }
        crate::input::validate(&p.input)?;
        let thread = self
            .inner
            .threads
            .get(&p.thread_id)
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
        if active.kind == TurnKind::Shell {
            return Err(CoreError::InvalidRequest(
                "the active turn runs a shell command and cannot be steered".into(),
            ));
        }
        if active.kind != TurnKind::Regular {
            return Err(CoreError::InvalidRequest(format!(
                "the active turn is a {} turn and cannot be steered",
                active.kind.noun()
            )));
        }
        if let Ok(mut pending) = active.pending_input.lock() {
            pending.push(p.input);
        }
        Ok(TurnSteerResponse {
            turn_id: active.turn_id.clone(),
        })
    }

    /// `turn/interrupt`: answers `{}` first, then cancels the turn and waits (bounded) until it
    /// has recorded its end, so the answer precedes `turn/completed` (the official order) and
    /// requests queued behind this one on the thread see it idle.
    pub async fn interrupt_turn(
        &self,
        p: TurnInterruptParams,
        reply: Reply<TurnInterruptResponse>,
    ) {
        let running =
            async {
                let thread = self.inner.threads.get(&p.thread_id).ok_or_else(|| {
                    CoreError::InvalidRequest("no active turn to interrupt".into())
                })?;
                let st = thread.state.lock().await;
                let active = st.active.as_ref().ok_or_else(|| {
                    CoreError::InvalidRequest("no active turn to interrupt".into())
                })?;
                if active.turn_id != p.turn_id {
                    return Err(CoreError::InvalidRequest(format!(
                        "expected active turn id {} but found {}",
                        p.turn_id, active.turn_id
                    )));
                }
                Ok((active.cancel.clone(), active.finished.subscribe()))
            }
            .await;
        match running {
            Ok((cancel, mut finished)) => {
                reply.send(Ok(TurnInterruptResponse {})).await;
                cancel.cancel();
                let _ = tokio::time::timeout(INTERRUPT_WAIT, finished.wait_for(|done| *done)).await;
            }
            Err(e) => {
                reply.send(Err(e)).await;
            }
        }
    }
}

pub(super) fn in_progress_turn(id: &str, started_at: Option<i64>) -> Turn {
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
