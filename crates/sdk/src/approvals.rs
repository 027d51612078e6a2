//! Approvals: the server asks before running a command or applying a patch, and an
//! [`ApprovalHandler`] decides. A handler is async and may take as long as it likes (a person
//! at a prompt); each request is answered from its own task, so a pending approval never
//! blocks other traffic. Returning `None` answers with the client's default
//! ([`crate::CodexConfig::approval_default`], accept unless changed, as in the Python SDK).
//!
//! [`approval_queue`] is the ready-made deferred handler: requests are queued as
//! [`PendingApproval`]s that any other task (or thread) answers later; one dropped unanswered
//! gets the default.

use codex_protocol::v2::{
    ApprovalDecision, CommandExecutionRequestApprovalParams, FileChangeRequestApprovalParams,
};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// A boxed future that can move between threads.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One approval the server asks for.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ApprovalRequest {
    /// `item/commandExecution/requestApproval`: run `command` in `cwd`?
    CommandExecution(CommandExecutionRequestApprovalParams),
    /// `item/fileChange/requestApproval`: apply the changes of item `item_id`?
    FileChange(FileChangeRequestApprovalParams),
}

impl ApprovalRequest {
    /// The thread the approval is for.
    pub fn thread_id(&self) -> &str {
        match self {
            ApprovalRequest::CommandExecution(p) => &p.thread_id,
            ApprovalRequest::FileChange(p) => &p.thread_id,
        }
    }

    /// The turn the approval is for.
    pub fn turn_id(&self) -> &str {
        match self {
            ApprovalRequest::CommandExecution(p) => &p.turn_id,
            ApprovalRequest::FileChange(p) => &p.turn_id,
        }
    }

    /// The item (command or file change) the approval is for.
    pub fn item_id(&self) -> &str {
        match self {
            ApprovalRequest::CommandExecution(p) => &p.item_id,
            ApprovalRequest::FileChange(p) => &p.item_id,
        }
    }
}

/// Decides approvals. Implemented for every `Fn(ApprovalRequest) -> impl Future` whose output
/// is an [`ApprovalDecision`] or an `Option` of one:
///
/// ```
/// use codex_sdk::{ApprovalDecision, ApprovalRequest, CodexConfig};
///
/// let config = CodexConfig::default().approval_handler(|request: ApprovalRequest| async move {
///     match request {
///         ApprovalRequest::CommandExecution(p) if p.command.starts_with("ls") => {
///             ApprovalDecision::Accept
///         }
///         _ => ApprovalDecision::Decline,
///     }
/// });
/// # drop(config);
/// ```
pub trait ApprovalHandler: Send + Sync + 'static {
    /// The decision for `request`; `None` means the client's default.
    ///
    /// # Cancellation
    /// The future is dropped when the server withdraws the request
    /// (`serverRequest/resolved`, e.g. the turn was interrupted) or the client closes.
    fn decide(&self, request: ApprovalRequest) -> BoxFuture<Option<ApprovalDecision>>;
}

impl<F, Fut> ApprovalHandler for F
where
    F: Fn(ApprovalRequest) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Into<Option<ApprovalDecision>>,
{
    fn decide(&self, request: ApprovalRequest) -> BoxFuture<Option<ApprovalDecision>> {
        let decision = self(request);
        Box::pin(async move { decision.await.into() })
    }
}

/// A deferred handler: pass it to [`crate::CodexConfig::approval_handler`] and answer from the
/// [`ApprovalQueue`].
#[derive(Clone)]
pub struct QueuedApprovals {
    tx: mpsc::Sender<PendingApproval>,
}

/// Approvals waiting for an answer, in arrival order.
pub struct ApprovalQueue {
    rx: mpsc::Receiver<PendingApproval>,
}

/// Creates a deferred handler and the queue its requests arrive on. At most `capacity`
/// requests wait in the queue; more wait (each in its own task) until there is room.
///
/// ```no_run
/// # async fn demo() -> codex_sdk::Result<()> {
/// use codex_sdk::{approval_queue, Codex, CodexConfig};
///
/// let (handler, mut approvals) = approval_queue(16);
/// let codex = Codex::launch(CodexConfig::default().approval_handler(handler)).await?;
/// tokio::spawn(async move {
///     while let Some(pending) = approvals.next().await {
///         // Ask someone, look something up, ... then answer.
///         pending.accept();
///     }
/// });
/// # Ok(()) }
/// ```
pub fn approval_queue(capacity: usize) -> (QueuedApprovals, ApprovalQueue) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (QueuedApprovals { tx }, ApprovalQueue { rx })
}

impl ApprovalHandler for QueuedApprovals {
    fn decide(&self, request: ApprovalRequest) -> BoxFuture<Option<ApprovalDecision>> {
        let tx = self.tx.clone();
        Box::pin(async move {
            let (answer, answered) = oneshot::channel();
            let pending = PendingApproval {
                request,
                answer: Some(answer),
            };
            if tx.send(pending).await.is_err() {
                return None;
            }
            // A pending approval dropped unanswered closes the channel: the default applies.
            answered.await.ok()
        })
    }
}

impl ApprovalQueue {
    /// The next approval to answer; `None` once the client is gone.
    pub async fn next(&mut self) -> Option<PendingApproval> {
        self.rx.recv().await
    }

    /// [`ApprovalQueue::next`] for a thread outside any async runtime.
    ///
    /// # Panics
    /// When called from inside an async runtime (tokio's rule for blocking receives).
    pub fn blocking_next(&mut self) -> Option<PendingApproval> {
        self.rx.blocking_recv()
    }
}

/// One approval waiting for [`PendingApproval::answer`]. Dropping it answers with the default.
#[derive(Debug)]
pub struct PendingApproval {
    request: ApprovalRequest,
    answer: Option<oneshot::Sender<ApprovalDecision>>,
}

impl PendingApproval {
    /// What the server asks.
    pub fn request(&self) -> &ApprovalRequest {
        &self.request
    }

    /// Sends the decision (ignored when the server already withdrew the request).
    pub fn answer(mut self, decision: ApprovalDecision) {
        if let Some(answer) = self.answer.take() {
            let _ = answer.send(decision);
        }
    }

    /// Answers [`ApprovalDecision::Accept`].
    pub fn accept(self) {
        self.answer(ApprovalDecision::Accept);
    }

    /// Answers [`ApprovalDecision::Decline`].
    pub fn decline(self) {
        self.answer(ApprovalDecision::Decline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_change() -> ApprovalRequest {
        ApprovalRequest::FileChange(FileChangeRequestApprovalParams {
            thread_id: "t".into(),
            turn_id: "u".into(),
            item_id: "i".into(),
            started_at_ms: 0,
            reason: None,
            grant_root: None,
        })
    }

    #[tokio::test]
    async fn closures_answer_plain_or_optional_decisions() {
        let plain = |_: ApprovalRequest| async { ApprovalDecision::Decline };
        assert_eq!(
            plain.decide(file_change()).await,
            Some(ApprovalDecision::Decline)
        );
        let optional = |_: ApprovalRequest| async { None::<ApprovalDecision> };
        assert_eq!(optional.decide(file_change()).await, None);
    }

    #[tokio::test]
    async fn queued_approvals_are_answered_later_or_fall_back_to_the_default() {
        let (handler, mut queue) = approval_queue(4);
        let decision = tokio::spawn(handler.decide(file_change()));
        let pending = queue.next().await.unwrap();
        assert_eq!(pending.request().item_id(), "i");
        pending.answer(ApprovalDecision::AcceptForSession);
        assert_eq!(
            decision.await.unwrap(),
            Some(ApprovalDecision::AcceptForSession)
        );

        let dropped = tokio::spawn(handler.decide(file_change()));
        drop(queue.next().await.unwrap());
        assert_eq!(dropped.await.unwrap(), None);

        drop(queue);
        assert_eq!(handler.decide(file_change()).await, None);
    }
}
