//! The core's only way to reach clients: a typed [`Sink`] for notifications and server
//! requests. The core never sees connections. Every message carries a [`Route`] (the thread it
//! is about, and the connection whose request started the turn); the server implements
//! [`ClientSink`] and decides who gets it: today the one connection, with several connections
//! the subscribers of the thread, and for a server request the originating connection first.
//!
//! Notifications are encoded once here, into a [`Frame`] the server can hand to any number
//! of connections.

use codex_jsonrpc::{Frame, RequestError};
use codex_protocol::jsonrpc::RequestId;
use codex_protocol::methods::{Notification, ServerRequest};
use serde_json::Value;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future, for the object-safe traits of the core.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The connection a request came from, as an opaque number the server hands out. The core
/// stores it with a turn and gives it back with the turn's server requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Origin(pub u64);

/// What a message is about, for routing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Route {
    /// The thread the message concerns; `None` for runtime-wide news (account changes).
    pub thread_id: Option<Arc<str>>,
    /// The connection whose request started the work that sends the message.
    pub origin: Option<Origin>,
}

/// The receiving end of the core's messages, implemented by the server.
pub trait ClientSink: Send + Sync + 'static {
    /// Delivers an encoded notification. `method` is passed apart so per-connection filters
    /// (opted-out methods) need not look into the frame.
    fn notify<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        frame: Frame,
    ) -> BoxFuture<'a, ()>;

    /// Sends a server request whose params are already JSON text and returns the means to
    /// await its answer.
    ///
    /// # Errors
    /// [`RequestError::Closed`] when no connection can take the request.
    fn request<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        params_json: String,
    ) -> BoxFuture<'a, Result<PendingReply, RequestError>>;
}

/// A server request awaiting its answer. Dropping it forgets the request.
pub struct PendingReply {
    id: RequestId,
    answer: BoxFuture<'static, Result<Value, RequestError>>,
}

impl PendingReply {
    pub fn new(id: RequestId, answer: BoxFuture<'static, Result<Value, RequestError>>) -> Self {
        PendingReply { id, answer }
    }
}

/// A typed handle on the core's client channel, bound to a [`Route`]. Cheap to clone.
#[derive(Clone)]
pub struct Sink {
    target: Arc<dyn ClientSink>,
    route: Route,
}

impl Sink {
    /// A sink with no thread or origin: for runtime-wide notifications.
    pub fn new(target: Arc<dyn ClientSink>) -> Sink {
        Sink {
            target,
            route: Route::default(),
        }
    }

    /// The same channel, about `thread_id`.
    pub fn for_thread(&self, thread_id: &str) -> Sink {
        Sink {
            target: self.target.clone(),
            route: Route {
                thread_id: Some(thread_id.into()),
                origin: self.route.origin,
            },
        }
    }

    /// The same channel, on behalf of the connection `origin`.
    pub fn with_origin(&self, origin: Option<Origin>) -> Sink {
        Sink {
            target: self.target.clone(),
            route: Route {
                thread_id: self.route.thread_id.clone(),
                origin,
            },
        }
    }

    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Sends notification `N`. Delivery is best effort: a client that is gone misses it.
    pub async fn notify<N: Notification>(&self, params: &N::Params) {
        match Frame::notification(N::NAME, params) {
            Ok(frame) => self.target.notify(&self.route, N::NAME, frame).await,
            Err(e) => tracing::error!("cannot encode {} notification: {e}", N::NAME),
        }
    }

    /// Sends server request `R`. Await the answer through the handle, bounded by a timeout
    /// where the caller wants one; dropping the handle forgets the request.
    ///
    /// # Errors
    /// [`RequestError::Encode`], or [`RequestError::Closed`] when no client can be asked.
    pub async fn request<R: ServerRequest>(
        &self,
        params: &R::Params,
    ) -> Result<ServerRequestHandle<R>, RequestError> {
        let params = serde_json::to_string(params).map_err(RequestError::Encode)?;
        let pending = self.target.request(&self.route, R::NAME, params).await?;
        Ok(ServerRequestHandle {
            pending,
            _request: PhantomData,
        })
    }
}

impl Sink {
    /// Sends server request `R` and awaits its typed answer, at most `within` when given.
    /// For callers that do not need the request id (approvals name it in
    /// `serverRequest/resolved`, so they use [`Sink::request`]).
    ///
    /// # Errors
    /// Any [`RequestError`]; [`RequestError::TimedOut`] when `within` passed first.
    ///
    /// # Cancellation
    /// Dropping the future (an interrupted turn) forgets the request.
    pub async fn call<R: ServerRequest>(
        &self,
        params: &R::Params,
        within: Option<std::time::Duration>,
    ) -> Result<R::Response, RequestError> {
        let answer = self.request::<R>(params).await?.response();
        match within {
            None => answer.await,
            Some(limit) => tokio::time::timeout(limit, answer)
                .await
                .map_err(|_| RequestError::TimedOut(limit))?,
        }
    }
}

/// A sent server request `R`.
pub struct ServerRequestHandle<R> {
    pending: PendingReply,
    _request: PhantomData<fn() -> R>,
}

impl<R: ServerRequest> ServerRequestHandle<R> {
    /// The id the client answers to (also named by `serverRequest/resolved`).
    pub fn id(&self) -> &RequestId {
        &self.pending.id
    }

    /// The raw answer, for callers that read it leniently.
    ///
    /// # Errors
    /// [`RequestError::Closed`] or [`RequestError::Rejected`].
    ///
    /// # Cancellation
    /// Dropping the future forgets the request.
    pub async fn raw(self) -> Result<Value, RequestError> {
        self.pending.answer.await
    }

    /// The answer decoded as `R::Response`.
    ///
    /// # Errors
    /// As [`ServerRequestHandle::raw`], plus [`RequestError::Decode`].
    pub async fn response(self) -> Result<R::Response, RequestError> {
        let value = self.raw().await?;
        serde_json::from_value(value).map_err(RequestError::Decode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::methods::CommandExecutionRequestApproval as Approval;
    use codex_protocol::v2::CommandExecutionRequestApprovalParams;
    use std::sync::Mutex;
    use std::time::Duration;

    /// Records what it is given; answers requests with `answer`, or never when it is `None`.
    struct Recording {
        seen: Mutex<Vec<(Route, &'static str, String)>>,
        answer: Option<Value>,
    }

    impl ClientSink for Recording {
        fn notify<'a>(
            &'a self,
            route: &'a Route,
            method: &'static str,
            frame: Frame,
        ) -> BoxFuture<'a, ()> {
            self.seen
                .lock()
                .unwrap()
                .push((route.clone(), method, frame.as_str().to_string()));
            Box::pin(async {})
        }

        fn request<'a>(
            &'a self,
            route: &'a Route,
            method: &'static str,
            params_json: String,
        ) -> BoxFuture<'a, Result<PendingReply, RequestError>> {
            self.seen
                .lock()
                .unwrap()
                .push((route.clone(), method, params_json));
            let answer = self.answer.clone();
            Box::pin(async move {
                let reply: BoxFuture<'static, Result<Value, RequestError>> = match answer {
                    Some(v) => Box::pin(async move { Ok(v) }),
                    None => Box::pin(std::future::pending()),
                };
                Ok(PendingReply::new(RequestId::Integer(0), reply))
            })
        }
    }

    fn params() -> CommandExecutionRequestApprovalParams {
        serde_json::from_value(serde_json::json!({
            "threadId": "t", "turnId": "u", "itemId": "i", "startedAtMs": 0,
            "command": "ls", "cwd": "/", "commandActions": []
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn messages_carry_their_route_and_typed_answers_come_back() {
        let target = Arc::new(Recording {
            seen: Mutex::new(Vec::new()),
            answer: Some(serde_json::json!({"decision": "accept"})),
        });
        let sink = Sink::new(target.clone())
            .with_origin(Some(Origin(7)))
            .for_thread("t1");
        let answer = sink.call::<Approval>(&params(), None).await.unwrap();
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            serde_json::json!({"decision": "accept"})
        );
        let seen = target.seen.lock().unwrap();
        assert_eq!(seen[0].0.thread_id.as_deref(), Some("t1"));
        assert_eq!(seen[0].0.origin, Some(Origin(7)));
        assert_eq!(seen[0].1, "item/commandExecution/requestApproval");
    }

    #[tokio::test]
    async fn an_unanswered_request_times_out_when_the_caller_bounds_it() {
        let sink = Sink::new(Arc::new(Recording {
            seen: Mutex::new(Vec::new()),
            answer: None,
        }));
        let limit = Duration::from_millis(20);
        let err = sink
            .call::<Approval>(&params(), Some(limit))
            .await
            .unwrap_err();
        assert!(
            matches!(err, RequestError::TimedOut(d) if d == limit),
            "{err}"
        );
    }
}
