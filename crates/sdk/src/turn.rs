//! [`TurnHandle`]: a started turn. Stream its notifications ([`TurnHandle::stream`]), wait for
//! its [`TurnResult`] ([`TurnHandle::run`]), add input while it runs ([`TurnHandle::steer`]) or
//! stop it ([`TurnHandle::interrupt`]). Handles are cheap clones: one task can stream while
//! another steers or interrupts.

use crate::collector::{TurnCollector, TurnResult};
use crate::connection::{Connection, Subscription};
use crate::error::Error;
use crate::notification::Notification;
use crate::options::Input;
use codex_protocol::methods::{Notification as _, TurnCompleted, TurnInterrupt, TurnSteer};
use codex_protocol::v2::{
    TurnInterruptParams, TurnInterruptResponse, TurnSteerParams, TurnSteerResponse,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// A started turn.
#[derive(Clone)]
pub struct TurnHandle {
    inner: Arc<TurnInner>,
}

struct TurnInner {
    connection: Arc<Connection>,
    thread_id: String,
    id: String,
    /// Taken by the first [`TurnHandle::stream`].
    subscription: Mutex<Option<Subscription>>,
}

impl std::fmt::Debug for TurnHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnHandle")
            .field("thread_id", &self.inner.thread_id)
            .field("id", &self.inner.id)
            .finish()
    }
}

impl TurnHandle {
    pub(crate) fn new(
        connection: Arc<Connection>,
        thread_id: String,
        id: String,
        subscription: Subscription,
    ) -> TurnHandle {
        TurnHandle {
            inner: Arc::new(TurnInner {
                connection,
                thread_id,
                id,
                subscription: Mutex::new(Some(subscription)),
            }),
        }
    }

    /// The turn's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The id of the turn's thread.
    pub fn thread_id(&self) -> &str {
        &self.inner.thread_id
    }

    /// The turn's notifications, in order, ending after its `turn/completed` (including
    /// those that arrived before `turn/start` answered). A turn streams once: a second call
    /// (on this handle or a clone) yields [`Error::AlreadyStreamed`].
    ///
    /// ```no_run
    /// # async fn demo(thread: codex_sdk::Thread) -> codex_sdk::Result<()> {
    /// use codex_sdk::protocol::methods::typed::ServerNotification;
    /// use codex_sdk::Notification;
    ///
    /// let turn = thread.turn("Tell me a joke.").await?;
    /// let mut stream = turn.stream();
    /// while let Some(notification) = stream.next().await {
    ///     if let Notification::Known(ServerNotification::AgentMessageDelta(d)) = notification? {
    ///         print!("{}", d.delta);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stream(&self) -> TurnStream {
        let taken = self
            .inner
            .subscription
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let state = match taken {
            Some(subscription) => State::Live(subscription),
            None => State::Failed(Some(Error::AlreadyStreamed {
                turn_id: self.inner.id.clone(),
            })),
        };
        let idle = self.inner.connection.shared.turn_idle_timeout;
        TurnStream {
            turn_id: self.inner.id.clone(),
            state,
            idle,
            sleep: None,
        }
    }

    /// Streams the turn to its end and returns what it produced.
    ///
    /// # Errors
    /// [`Error::TurnFailed`] for a failed turn (an interrupted one is a result, with status
    /// `interrupted`), and any error of [`TurnStream`].
    pub async fn run(&self) -> Result<TurnResult, Error> {
        let mut stream = self.stream();
        let mut collector = TurnCollector::new(&self.inner.id);
        while let Some(notification) = stream.next().await {
            if collector.feed(notification?) {
                break;
            }
        }
        collector.result()
    }

    /// Adds user input to the turn while it runs; the model sees it at its next request.
    ///
    /// # Errors
    /// [`Error::Rpc`] when the turn is no longer running, and any request error.
    pub async fn steer(&self, input: impl Into<Input>) -> Result<TurnSteerResponse, Error> {
        let params = TurnSteerParams {
            thread_id: self.inner.thread_id.clone(),
            expected_turn_id: self.inner.id.clone(),
            input: input.into().items().to_vec(),
            client_user_message_id: None,
        };
        self.inner
            .connection
            .shared
            .call::<TurnSteer>(&params)
            .await
    }

    /// Asks the server to stop the turn; it then completes with status `interrupted`.
    ///
    /// # Errors
    /// Any request error.
    pub async fn interrupt(&self) -> Result<TurnInterruptResponse, Error> {
        let params = TurnInterruptParams {
            thread_id: self.inner.thread_id.clone(),
            turn_id: self.inner.id.clone(),
        };
        self.inner
            .connection
            .shared
            .call::<TurnInterrupt>(&params)
            .await
    }
}

enum State {
    Live(Subscription),
    Failed(Option<Error>),
    Done,
}

/// A turn's notifications: `next().await` (or use it as a `futures_core::Stream`). Ends after
/// `turn/completed`; a connection that closes first yields [`Error::TransportClosed`], a
/// reader that fell behind [`Error::Lagged`], a silence longer than
/// [`crate::CodexConfig::turn_idle_timeout`] [`Error::Timeout`]; then it ends.
pub struct TurnStream {
    turn_id: String,
    state: State,
    idle: Option<Duration>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl TurnStream {
    /// The next notification; `None` once the turn completed (or after an error).
    pub async fn next(&mut self) -> Option<Result<Notification, Error>> {
        std::future::poll_fn(|cx| self.poll_item(cx)).await
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Notification, Error>>> {
        let subscription = match &mut self.state {
            State::Done => return Poll::Ready(None),
            State::Failed(error) => {
                let error = error.take();
                self.state = State::Done;
                return Poll::Ready(error.map(Err));
            }
            State::Live(subscription) => subscription,
        };
        match subscription.receiver.rx.poll_recv(cx) {
            Poll::Ready(Some(notification)) => {
                if notification.method() == TurnCompleted::NAME {
                    self.state = State::Done;
                } else if let (Some(idle), Some(sleep)) = (self.idle, self.sleep.as_mut()) {
                    sleep.as_mut().reset(Instant::now() + idle);
                }
                Poll::Ready(Some(Ok(notification)))
            }
            Poll::Ready(None) => {
                let error = if subscription.receiver.lagged.load(Ordering::Acquire) {
                    Error::Lagged {
                        turn_id: self.turn_id.clone(),
                        capacity: subscription.shared().map_or(0, |s| s.turn_buffer),
                    }
                } else {
                    match subscription.shared().and_then(|s| s.closed_reason()) {
                        Some(reason) => Error::TransportClosed(reason),
                        None => Error::TurnIncomplete {
                            turn_id: self.turn_id.clone(),
                        },
                    }
                };
                self.state = State::Done;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => {
                let Some(idle) = self.idle else {
                    return Poll::Pending;
                };
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.state = State::Done;
                Poll::Ready(Some(Err(Error::Timeout {
                    what: format!("waiting for the next notification of turn {}", self.turn_id),
                    after: idle,
                })))
            }
        }
    }
}

impl futures_core::Stream for TurnStream {
    type Item = Result<Notification, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_item(cx)
    }
}
