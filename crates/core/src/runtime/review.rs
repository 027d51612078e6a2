//! `review/start`: the target is resolved (git, in the thread's working directory) before the
//! answer, so a bad target is an error answer and not a failed turn. Then a review turn runs on
//! the thread (inline), or on a new thread forked from it (detached; announced with
//! `thread/started` before the turn starts).

use super::turns::in_progress_turn;
use super::Runtime;
use crate::error::CoreError;
use crate::identity::Caller;
use crate::reply::Reply;
use crate::thread::TurnKind;
use crate::turn::{TurnLaunch, TurnRequest};
use codex_protocol::v2::*;

impl Runtime {
    /// `review/start`. The answer names the review turn and the thread it runs on; the turn
    /// starts after it.
    pub async fn start_review(
        &self,
        caller: &Caller,
        p: ReviewStartParams,
        reply: Reply<ReviewStartResponse>,
    ) {
        match self.prepare_review(caller, p).await {
            Ok((response, launch, forked)) => {
                reply.send(Ok(response)).await;
                // The review runs even if the answer could not be delivered: the thread is
                // already marked busy with it, and its result lands in the thread either way.
                if let Some(thread) = forked {
                    self.announce_started(thread).await;
                }
                launch.launch();
            }
            Err(e) => {
                reply.send(Err(e)).await;
            }
        }
    }

    async fn prepare_review(
        &self,
        caller: &Caller,
        p: ReviewStartParams,
    ) -> Result<(ReviewStartResponse, TurnLaunch, Option<Thread>), CoreError> {
        let source = self.load(&p.thread_id).await?;
        let detached = p.delivery.unwrap_or_default() == ReviewDelivery::Detached;
        if detached && source.ephemeral {
            return Err(CoreError::InvalidRequest(format!(
                "thread {} is ephemeral and cannot be forked for a detached review; use inline \
                 delivery",
                p.thread_id
            )));
        }
        let cwd = source.state.lock().await.settings.cwd.clone();
        let cancel = self.inner.shutdown.child_token();
        let plan = crate::review::plan(&p.target, &cwd, &cancel).await?;
        let (thread, forked) = if detached {
            let fork = self
                .fork(
                    caller,
                    ThreadForkParams {
                        thread_id: p.thread_id.clone(),
                        exclude_turns: Some(true),
                        settings: ThreadStartParams::default(),
                    },
                )
                .await?;
            (self.load(&fork.thread.id).await?, Some(fork.thread))
        } else {
            (source, None)
        };
        let mut st = thread.state.lock().await;
        if let Some(active) = &st.active {
            return Err(CoreError::InvalidRequest(format!(
                "thread {} is running a {} turn; wait for it to end or interrupt it before \
                 starting a review",
                thread.id,
                active.kind.noun()
            )));
        }
        let label = plan.label.clone();
        let launch = self.begin_turn(
            caller,
            &thread,
            &mut st,
            TurnKind::Review,
            TurnRequest::Review(plan),
        );
        // As the official runtime answers: the turn, with the review's label as its request.
        let mut turn = in_progress_turn(&launch.turn_id, None);
        turn.items.push(ThreadItem::UserMessage {
            id: launch.turn_id.clone(),
            content: vec![UserInput::Text {
                text: label,
                text_elements: Vec::new(),
            }],
            client_id: None,
        });
        let response = ReviewStartResponse {
            turn,
            review_thread_id: thread.id.clone(),
        };
        Ok((response, launch, forked))
    }
}
