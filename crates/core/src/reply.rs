//! [`Reply`]: the answer to one client request, handed to core operations that must do
//! something after answering (announce a new thread, launch a turn, stop a turn). The
//! operation answers first and goes on in the same function, so what follows an answer is
//! written in one place.

use crate::error::CoreError;
use crate::sink::BoxFuture;
use tokio::sync::oneshot;

type SendFn<T> = Box<dyn FnOnce(Result<T, CoreError>) -> BoxFuture<'static, bool> + Send>;

/// The answer channel of one request.
pub struct Reply<T> {
    send: SendFn<T>,
}

impl<T: Send + 'static> Reply<T> {
    /// `send` writes the answer and resolves to whether a success reached the client's queue.
    pub fn new(
        send: impl FnOnce(Result<T, CoreError>) -> BoxFuture<'static, bool> + Send + 'static,
    ) -> Reply<T> {
        Reply {
            send: Box::new(send),
        }
    }

    /// A reply read from the returned receiver (tests, and callers in the same process).
    pub fn channel() -> (Reply<T>, oneshot::Receiver<Result<T, CoreError>>) {
        let (tx, rx) = oneshot::channel();
        let reply = Reply::new(move |result: Result<T, CoreError>| {
            let ok = result.is_ok();
            let delivered = tx.send(result).is_ok();
            Box::pin(async move { ok && delivered })
        });
        (reply, rx)
    }

    /// Answers; true when the answer was a success and was delivered, so the caller goes on
    /// with what follows it.
    pub async fn send(self, result: Result<T, CoreError>) -> bool {
        (self.send)(result).await
    }
}
