//! The sending half of a connection: the bounded outgoing queue, id allocation for our own
//! requests and the table of those awaiting a reply. Side-neutral: the server sends its
//! notifications and server requests through a `Peer`, a client sends its requests the same
//! way, and the reader task routes every reply back here.
//!
//! Output order is the order of `send` calls; a full queue makes senders wait (backpressure),
//! it never drops a frame.

use crate::error::{Closed, RequestError};
use crate::frame::Frame;
use codex_protocol::jsonrpc::{JsonRpcErrorBody, RequestId};
use codex_protocol::methods::{Method, Notification, ServerRequest};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What the other side answered to one of our requests.
pub type Reply = Result<Value, JsonRpcErrorBody>;

/// A cheap, cloneable handle for sending on one connection.
#[derive(Clone)]
pub struct Peer {
    shared: Arc<Shared>,
}

struct Shared {
    out: mpsc::Sender<Frame>,
    /// Integer ids count from 0, as the official server numbers its requests.
    next_id: AtomicI64,
    pending: Mutex<HashMap<RequestId, oneshot::Sender<Reply>>>,
    /// Fired by [`Peer::close`] or when the writer fails; the writer drains and stops.
    closed: CancellationToken,
    /// Set by [`Peer::disconnect`]: the writer drops what is queued and writes only this.
    last_words: Arc<OnceLock<Frame>>,
}

/// The writing side of a connection: what its writer drains, and when it stops.
pub struct Outbox {
    /// Frames in send order.
    pub frames: mpsc::Receiver<Frame>,
    /// Fired when the connection closes for sending; the writer then writes what is queued
    /// (or only the last words, see [`Outbox::last_words`]) and stops.
    pub closed: CancellationToken,
    last_words: Arc<OnceLock<Frame>>,
}

impl Outbox {
    /// The frame the connection was dropped with ([`Peer::disconnect`]). Once set, the writer
    /// writes nothing else that is queued: the peer is being dropped for not keeping up.
    pub fn last_words(&self) -> Option<&Frame> {
        self.last_words.get()
    }

    /// The next frame to write; `None` once every sender is gone, or once the connection
    /// closed and what was queued at that moment is written (at once if it closed with last
    /// words). Cancel-safe, so a writer may race it against its own timers.
    pub async fn next(&mut self) -> Option<Frame> {
        tokio::select! {
            biased;
            frame = self.frames.recv() => frame,
            _ = self.closed.cancelled() => {
                if self.last_words().is_some() {
                    return None;
                }
                // Senders may still be queueing; take only what is there now.
                self.frames.close();
                self.frames.recv().await
            }
        }
    }
}

impl Peer {
    /// A peer and the queue its writer drains. [`crate::Connection::spawn`] calls this; a
    /// message-framed transport (one message per WebSocket frame) can call it directly.
    pub fn new(queue: usize) -> (Peer, Outbox) {
        let (out, frames) = mpsc::channel(queue.max(1));
        let closed = CancellationToken::new();
        let last_words = Arc::new(OnceLock::new());
        let peer = Peer {
            shared: Arc::new(Shared {
                out,
                next_id: AtomicI64::new(0),
                pending: Mutex::new(HashMap::new()),
                closed: closed.clone(),
                last_words: last_words.clone(),
            }),
        };
        let outbox = Outbox {
            frames,
            closed,
            last_words,
        };
        (peer, outbox)
    }

    /// Queues one frame, waiting while the queue is full.
    ///
    /// # Errors
    /// [`Closed`] once the connection is closed or its writer has failed.
    pub async fn send(&self, frame: Frame) -> Result<(), Closed> {
        if self.shared.closed.is_cancelled() {
            return Err(Closed);
        }
        self.shared.out.send(frame).await.map_err(|_| Closed)
    }

    /// Queues one frame if there is room now. `Ok(false)` means the queue is full: a caller
    /// that must not wait (fan-out to a slow client) decides what to do with that client.
    ///
    /// # Errors
    /// [`Closed`] once the connection is closed.
    pub fn try_send(&self, frame: Frame) -> Result<bool, Closed> {
        if self.shared.closed.is_cancelled() {
            return Err(Closed);
        }
        match self.shared.out.try_send(frame) {
            Ok(()) => Ok(true),
            Err(mpsc::error::TrySendError::Full(_)) => Ok(false),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
        }
    }

    /// Sends notification `N`.
    ///
    /// # Errors
    /// [`RequestError::Closed`], or [`RequestError::Encode`] for params that cannot be encoded.
    pub fn notify<N: Notification>(
        &self,
        params: &N::Params,
    ) -> impl Future<Output = Result<(), RequestError>> + Send + '_ {
        // Encoded before the future is built, so it does not borrow the params.
        let frame = Frame::notification(N::NAME, params).map_err(RequestError::Encode);
        async move { Ok(self.send(frame?).await?) }
    }

    /// Answers request `id` with `result`; a result that cannot be encoded is answered with an
    /// internal error instead, so the request is answered either way.
    ///
    /// # Errors
    /// [`Closed`] when the connection is closed.
    pub fn respond(
        &self,
        id: RequestId,
        result: &impl Serialize,
    ) -> impl Future<Output = Result<(), Closed>> + Send + '_ {
        let frame = match Frame::response(&id, result) {
            Ok(frame) => frame,
            Err(e) => Frame::error(Some(&id), &JsonRpcErrorBody::internal(e.to_string())),
        };
        self.send(frame)
    }

    /// Answers request `id` (or `null` when unknown) with an error.
    ///
    /// # Errors
    /// [`Closed`] when the connection is closed.
    pub async fn respond_error(
        &self,
        id: Option<RequestId>,
        error: JsonRpcErrorBody,
    ) -> Result<(), Closed> {
        self.send(Frame::error(id.as_ref(), &error)).await
    }

    /// Sends a request whose params are already JSON text; the reply arrives through the
    /// returned [`PendingRequest`].
    ///
    /// # Errors
    /// [`Closed`] when the connection is closed.
    pub async fn request_encoded(
        &self,
        method: &str,
        params_json: &str,
    ) -> Result<PendingRequest, Closed> {
        let id = RequestId::Integer(self.shared.next_id.fetch_add(1, Ordering::Relaxed));
        self.request_encoded_as(id, method, params_json).await
    }

    /// As [`Peer::request_encoded`], with an id the caller chose: a server that may send the
    /// same request on several connections (handing it to another client when the first one
    /// leaves) keeps one id for it everywhere. The caller keeps its ids apart from the ones
    /// this peer allocates.
    ///
    /// # Errors
    /// [`Closed`] when the connection is closed.
    pub async fn request_encoded_as(
        &self,
        id: RequestId,
        method: &str,
        params_json: &str,
    ) -> Result<PendingRequest, Closed> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.insert(id.clone(), tx);
        }
        // Built before sending, so a failed send forgets the entry through `Drop`.
        let waiting = PendingRequest {
            id: id.clone(),
            reply: rx,
            shared: Arc::downgrade(&self.shared),
        };
        self.send(Frame::request_encoded(&id, method, params_json))
            .await?;
        Ok(waiting)
    }

    /// Sends a request with any params.
    ///
    /// # Errors
    /// [`RequestError::Encode`] or [`RequestError::Closed`].
    pub fn request_raw<'a>(
        &'a self,
        method: &'a str,
        params: &impl Serialize,
    ) -> impl Future<Output = Result<PendingRequest, RequestError>> + Send + 'a {
        let params = serde_json::to_string(params).map_err(RequestError::Encode);
        async move { Ok(self.request_encoded(method, &params?).await?) }
    }

    /// Client side: calls method `M` on the server and awaits its typed response.
    ///
    /// # Errors
    /// Any [`RequestError`]; a JSON-RPC error answer is [`RequestError::Rejected`].
    ///
    /// # Cancellation
    /// Dropping the future forgets the request; a late answer is then ignored.
    pub async fn request<M: Method>(
        &self,
        params: &M::Params,
    ) -> Result<M::Response, RequestError> {
        self.request_raw(M::NAME, params).await?.response().await
    }

    /// Server side: sends server request `R`; await the answer through the returned handle,
    /// which also carries the request id (for `serverRequest/resolved`).
    ///
    /// # Errors
    /// [`RequestError::Encode`] or [`RequestError::Closed`].
    pub fn server_request<R: ServerRequest>(
        &self,
        params: &R::Params,
    ) -> impl Future<Output = Result<PendingRequest, RequestError>> + Send + '_ {
        self.request_raw(R::NAME, params)
    }

    /// Routes an answer to the request waiting for it; false for an id nobody waits on.
    pub fn resolve(&self, id: &RequestId, reply: Reply) -> bool {
        let waiter = self
            .shared
            .pending
            .lock()
            .ok()
            .and_then(|mut p| p.remove(id));
        match waiter {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    /// Fails every request still waiting for an answer (their [`PendingRequest::reply`]
    /// returns [`RequestError::Closed`]): for a peer that is gone and will never answer.
    pub fn fail_pending(&self) {
        if let Ok(mut pending) = self.shared.pending.lock() {
            pending.clear();
        }
    }

    /// Closes the connection for sending: frames already queued are still written and
    /// flushed, later sends fail with [`Closed`].
    pub fn close(&self) {
        self.shared.closed.cancel();
        // Wakes a writer thread blocked on an empty queue; a full queue keeps it busy, and it
        // checks for the close once the queue is drained.
        let _ = self.shared.out.try_send(Frame::close_marker());
    }

    /// Drops the peer for good: what is queued is discarded, `last_words` (an error saying
    /// why) is the last frame written, and the connection closes. For a peer that does not
    /// keep up with what it is sent.
    pub fn disconnect(&self, last_words: Frame) {
        let _ = self.shared.last_words.set(last_words);
        self.close();
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.is_cancelled()
    }

    /// Resolves once the connection is closed for sending.
    pub async fn closed(&self) {
        self.shared.closed.cancelled().await;
    }

    /// Whether two handles send on the same connection.
    pub fn same_connection(&self, other: &Peer) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// One of our requests awaiting its answer. Dropping it forgets the request: a late answer is
/// then ignored.
pub struct PendingRequest {
    id: RequestId,
    reply: oneshot::Receiver<Reply>,
    shared: Weak<Shared>,
}

impl PendingRequest {
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// The raw answer.
    ///
    /// # Errors
    /// [`RequestError::Closed`] when the connection closed (or gave up on the peer) first;
    /// [`RequestError::Rejected`] for an error answer.
    pub async fn reply(mut self) -> Result<Value, RequestError> {
        match (&mut self.reply).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(RequestError::Rejected(error)),
            Err(_) => Err(RequestError::Closed),
        }
    }

    /// The answer decoded as `T`.
    ///
    /// # Errors
    /// As [`PendingRequest::reply`], plus [`RequestError::Decode`].
    pub async fn response<T: DeserializeOwned>(self) -> Result<T, RequestError> {
        let value = self.reply().await?;
        serde_json::from_value(value).map_err(RequestError::Decode)
    }
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            if let Ok(mut pending) = shared.pending.lock() {
                pending.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn replies_reach_their_request_and_dropped_requests_are_forgotten() {
        let (peer, mut outbox) = Peer::new(8);
        let first = peer.request_raw("a", &json!({})).await.unwrap();
        let second = peer.request_raw("b", &json!({})).await.unwrap();
        assert_eq!(first.id(), &RequestId::Integer(0));
        assert_eq!(second.id(), &RequestId::Integer(1));
        assert_eq!(
            outbox.frames.recv().await.unwrap().as_str(),
            r#"{"id":0,"method":"a","params":{}}"#
        );
        let second_id = second.id().clone();
        drop(second);
        assert!(!peer.resolve(&second_id, Ok(json!(1))), "forgotten on drop");
        assert!(peer.resolve(&RequestId::Integer(0), Ok(json!({"x": 1}))));
        assert_eq!(first.reply().await.unwrap(), json!({"x": 1}));
        let third = peer.request_raw("c", &json!({})).await.unwrap();
        peer.fail_pending();
        assert!(matches!(third.reply().await, Err(RequestError::Closed)));
    }

    #[tokio::test]
    async fn a_closed_peer_refuses_to_send() {
        let (peer, _outbox) = Peer::new(1);
        peer.close();
        assert_eq!(
            peer.try_send(Frame::message(
                &codex_protocol::jsonrpc::Message::Notification {
                    method: "m".into(),
                    params: None
                }
            )),
            Err(Closed)
        );
        assert!(matches!(
            peer.request_raw("x", &json!({})).await,
            Err(RequestError::Closed)
        ));
    }
}
