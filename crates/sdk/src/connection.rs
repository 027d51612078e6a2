//! One connection to an app-server: the `codex-jsonrpc` reader and writer tasks plus a
//! dispatcher task that routes what the server sends (notifications to turn streams, requests
//! to the [`Responder`]), requests with their timeout, and the one place the connection ends.
//!
//! Background tasks hold [`Shared`] only, never the [`Connection`] the public handles share,
//! so dropping the last handle runs [`Connection`]'s `Drop`: the server is killed and the
//! tasks end. [`Connection::close`] is the graceful path: close the server's stdin (it exits on
//! EOF), wait, then kill.

use crate::config::CodexConfig;
use crate::error::{Error, RpcError, TransportClosed};
use crate::notification::{turn_id_of, Notification};
use crate::process::Process;
use crate::router::{Router, SinkReceiver};
use crate::server_requests::Responder;
use codex_jsonrpc::{Closing, Incoming, Limits, Peer, RequestError};
use codex_protocol::jsonrpc::RequestId;
use codex_protocol::methods::{Method, Notification as _, ServerRequestResolved};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Longest line accepted from the server: a `thread/read` with every turn can be large, and
/// the server is trusted.
const MAX_LINE_BYTES: usize = 256 * 1024 * 1024;
/// How long a closing server gets to exit after its stdin closes, and again after a kill.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// What the background tasks share with the public handles.
pub(crate) struct Shared {
    pub peer: Peer,
    router: Mutex<Router>,
    pub responder: Responder,
    /// Set once, when the connection ends; the reason every later call fails with.
    closed: watch::Sender<Option<TransportClosed>>,
    process: Option<Process>,
    request_timeout: Duration,
    pub turn_idle_timeout: Option<Duration>,
    pub turn_buffer: usize,
}

/// A running connection; the public handles share one through an `Arc`.
pub(crate) struct Connection {
    pub shared: Arc<Shared>,
    closing: Mutex<Option<Closing>>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    /// The in-process server's task, for an embedded runtime.
    server_task: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its data consistent, so a panic elsewhere cannot have
    // left it half-written.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Connection {
    /// Starts the tasks over `input`/`output`. Must run inside a tokio runtime.
    pub fn start<R, W>(
        input: R,
        output: W,
        process: Option<Process>,
        config: &CodexConfig,
    ) -> Connection
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let limits = Limits {
            max_line_bytes: MAX_LINE_BYTES,
            ..Limits::default()
        };
        let (peer, incoming, closing) =
            codex_jsonrpc::Connection::spawn(input, output, limits).into_parts();
        let (closed, _) = watch::channel(None);
        let shared = Arc::new(Shared {
            peer,
            router: Mutex::new(Router::new(config.turn_buffer)),
            responder: Responder::new(config.approval_handler.clone(), config.approval_default),
            closed,
            process,
            request_timeout: config.request_timeout,
            turn_idle_timeout: config.turn_idle_timeout,
            turn_buffer: config.turn_buffer,
        });
        let dispatcher = tokio::spawn(dispatch(shared.clone(), incoming));
        Connection {
            shared,
            closing: Mutex::new(Some(closing)),
            dispatcher: Mutex::new(Some(dispatcher)),
            server_task: Mutex::new(None),
        }
    }

    /// Ties an in-process server's task to this connection's lifetime.
    #[cfg_attr(not(feature = "embedded"), allow(dead_code))]
    pub fn set_server_task(&self, task: JoinHandle<()>) {
        *lock(&self.server_task) = Some(task);
    }

    /// Closes gracefully: fails what is pending, closes the server's input, waits for it to
    /// exit (killing it after [`EXIT_GRACE`]). Idempotent.
    pub async fn close(&self) {
        self.shared
            .shut(TransportClosed::new("the Codex client was closed"));
        let closing = lock(&self.closing).take();
        if let Some(closing) = closing {
            closing.close(EXIT_GRACE).await;
        }
        if let Some(process) = &self.shared.process {
            if process.wait_exit(EXIT_GRACE).await.is_none() {
                tracing::warn!("the app-server did not exit on end of input; killing it");
                process.kill();
                process.wait_exit(EXIT_GRACE).await;
            }
        }
        let server_task = lock(&self.server_task).take();
        if let Some(task) = server_task {
            if tokio::time::timeout(EXIT_GRACE * 5, task).await.is_err() {
                tracing::warn!("the embedded app-server did not stop in time");
            }
        }
        let dispatcher = lock(&self.dispatcher).take();
        if let Some(task) = dispatcher {
            let abort = task.abort_handle();
            if tokio::time::timeout(EXIT_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.shared
            .shut(TransportClosed::new("the Codex client was dropped"));
        if let Some(process) = &self.shared.process {
            process.kill();
        }
        // Stopping the reader needs a runtime; without one the tasks die with theirs.
        let closing = lock(&self.closing).take();
        if let (Some(closing), Ok(runtime)) = (closing, tokio::runtime::Handle::try_current()) {
            runtime.spawn(closing.close(EXIT_GRACE));
        }
        if let Some(task) = lock(&self.server_task).take() {
            task.abort();
        }
    }
}

impl Shared {
    /// Ends the connection for every caller with `reason` (the first reason wins).
    fn shut(&self, reason: TransportClosed) {
        self.closed.send_if_modified(|closed| {
            if closed.is_none() {
                *closed = Some(reason);
                true
            } else {
                false
            }
        });
        self.peer.close();
        self.peer.fail_pending();
        lock(&self.router).close();
        self.responder.abort_all();
    }

    /// Why the connection ended, if it has.
    pub fn closed_reason(&self) -> Option<TransportClosed> {
        self.closed.borrow().clone()
    }

    /// The reason the connection ended, waiting briefly for the dispatcher to publish it (it
    /// first collects the server's stderr tail and exit status).
    async fn closed_error(&self) -> Error {
        let mut closed = self.closed.subscribe();
        let reason =
            match tokio::time::timeout(Duration::from_secs(5), closed.wait_for(Option::is_some))
                .await
            {
                Ok(Ok(reason)) => reason.clone(),
                _ => None,
            };
        Error::TransportClosed(
            reason
                .unwrap_or_else(|| TransportClosed::new("the connection to the app-server closed")),
        )
    }

    /// Sends a request and waits (at most the request timeout) for its raw result.
    ///
    /// # Errors
    /// [`Error::Rpc`] for an error answer, [`Error::TransportClosed`], [`Error::Timeout`],
    /// [`Error::Encode`].
    pub async fn request_value(
        &self,
        method: &str,
        params: &impl Serialize,
    ) -> Result<Value, Error> {
        if let Some(reason) = self.closed_reason() {
            return Err(Error::TransportClosed(reason));
        }
        let exchange = async { self.peer.request_raw(method, params).await?.reply().await };
        match tokio::time::timeout(self.request_timeout, exchange).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(RequestError::Rejected(body))) => Err(Error::Rpc(RpcError::from(body))),
            Ok(Err(RequestError::Closed)) => Err(self.closed_error().await),
            Ok(Err(RequestError::Encode(source))) => Err(Error::Encode {
                method: method.to_string(),
                source,
            }),
            Ok(Err(RequestError::Decode(source))) => Err(Error::Decode {
                method: method.to_string(),
                source,
            }),
            // The layer's own timeout is not used here (the SDK bounds the whole exchange),
            // but it means the same.
            Ok(Err(RequestError::TimedOut(after))) => Err(Error::Timeout {
                what: format!("request {method}"),
                after,
            }),
            Err(_) => Err(Error::Timeout {
                what: format!("request {method}"),
                after: self.request_timeout,
            }),
        }
    }

    /// [`Shared::request_value`] decoded as `T`.
    ///
    /// # Errors
    /// As [`Shared::request_value`], plus [`Error::Decode`].
    pub async fn request<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &impl Serialize,
    ) -> Result<T, Error> {
        let value = self.request_value(method, params).await?;
        serde_json::from_value(value).map_err(|source| Error::Decode {
            method: method.to_string(),
            source,
        })
    }

    /// Calls method `M` of the protocol's table.
    ///
    /// # Errors
    /// As [`Shared::request`].
    pub async fn call<M: Method>(&self, params: &M::Params) -> Result<M::Response, Error> {
        self.request(M::NAME, params).await
    }

    /// Sends a notification without params (`initialized`).
    pub async fn notify_bare(&self, method: &str) -> Result<(), Error> {
        let frame =
            codex_jsonrpc::Frame::message(&codex_protocol::jsonrpc::Message::Notification {
                method: method.to_string(),
                params: None,
            });
        match self.peer.send(frame).await {
            Ok(()) => Ok(()),
            Err(_) => Err(self.closed_error().await),
        }
    }

    /// Call before sending `turn/start`: until [`TurnStart::claim`] (or the guard is dropped)
    /// the turn's early notifications are kept for it.
    pub fn begin_turn_start(self: &Arc<Self>) -> TurnStart {
        let mark = lock(&self.router).begin_start();
        TurnStart {
            shared: self.clone(),
            mark: Some(mark),
        }
    }

    fn on_notification(&self, method: String, params: Option<Value>) {
        if method == ServerRequestResolved::NAME {
            let withdrawn = params
                .as_ref()
                .and_then(|p| p.get("requestId"))
                .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
            if let Some(id) = withdrawn {
                self.responder.withdrawn(&id);
            }
        }
        let Some(turn_id) = turn_id_of(params.as_ref()).map(str::to_string) else {
            return;
        };
        // Decoding costs a copy of the params; skip it for turns nobody listens to.
        if !lock(&self.router).wants(&turn_id) {
            return;
        }
        let notification = Notification::decode(method, params);
        lock(&self.router).route(&turn_id, notification);
    }
}

/// A `turn/start` in flight; dropping it unclaimed (an error, a cancelled call) forgets it.
pub(crate) struct TurnStart {
    shared: Arc<Shared>,
    mark: Option<u64>,
}

impl TurnStart {
    /// Claims `turn_id` for a new stream, with what was logged for it since the mark.
    pub fn claim(mut self, turn_id: &str) -> Subscription {
        let mut router = lock(&self.shared.router);
        let (sink, receiver) = router.channel();
        if let Some(mark) = self.mark.take() {
            router.finish_start(mark, Some((turn_id, sink)));
        }
        drop(router);
        Subscription {
            turn_id: turn_id.to_string(),
            receiver,
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl Drop for TurnStart {
    fn drop(&mut self) {
        if let Some(mark) = self.mark.take() {
            lock(&self.shared.router).finish_start(mark, None);
        }
    }
}

/// One turn's notifications; dropping it detaches it from the router.
pub(crate) struct Subscription {
    pub turn_id: String,
    pub receiver: SinkReceiver,
    shared: Weak<Shared>,
}

impl Subscription {
    /// The shared state, while the connection lives.
    pub fn shared(&self) -> Option<Arc<Shared>> {
        self.shared.upgrade()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            lock(&shared.router).unsubscribe(&self.turn_id, self.receiver.id);
        }
    }
}

async fn dispatch(shared: Arc<Shared>, mut incoming: mpsc::Receiver<Incoming>) {
    while let Some(message) = incoming.recv().await {
        match message {
            Incoming::Notification { method, params } => shared.on_notification(method, params),
            Incoming::Request { id, method, params } => {
                shared
                    .responder
                    .on_request(&shared.peer, id, method, params);
            }
        }
    }
    let reason = match &shared.process {
        Some(process) => {
            process
                .closed("the Codex app-server closed its output")
                .await
        }
        None => TransportClosed::new("the app-server closed the connection"),
    };
    shared.shut(reason);
}
