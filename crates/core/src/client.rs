//! The channel to the connected client: notifications, server-to-client requests and their
//! pending replies. Every outgoing line goes through one bounded queue that a single writer task
//! drains, so output order is the order of `send` calls and a slow client applies backpressure.

use codex_protocol::jsonrpc::{JsonRpcErrorBody, Message, RequestId};
use codex_protocol::methods::{Notification, ServerRequest};
use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Capacity of the outgoing queue (lines).
pub const OUTGOING_QUEUE: usize = 1024;

/// What a client answered to a server request.
pub type ClientReply = Result<Value, JsonRpcErrorBody>;

#[derive(Clone)]
pub struct ClientHandle {
    inner: Arc<Inner>,
}

struct Inner {
    lines: mpsc::Sender<String>,
    next_request_id: AtomicI64,
    pending: Mutex<HashMap<i64, oneshot::Sender<ClientReply>>>,
    opted_out: Mutex<HashSet<String>>,
}

/// A server request awaiting its reply; dropping it forgets the request.
pub struct PendingRequest {
    pub id: i64,
    reply: oneshot::Receiver<ClientReply>,
    client: ClientHandle,
}

impl PendingRequest {
    /// Waits for the client's answer; `None` when the connection closed first.
    pub async fn reply(mut self) -> Option<ClientReply> {
        (&mut self.reply).await.ok()
    }
}

impl Drop for PendingRequest {
    fn drop(&mut self) {
        self.client.forget(self.id);
    }
}

impl ClientHandle {
    /// Creates the handle and the receiving end that the writer task drains.
    pub fn new() -> (ClientHandle, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(OUTGOING_QUEUE);
        let handle = ClientHandle {
            inner: Arc::new(Inner {
                lines: tx,
                next_request_id: AtomicI64::new(0),
                pending: Mutex::new(HashMap::new()),
                opted_out: Mutex::new(HashSet::new()),
            }),
        };
        (handle, rx)
    }

    /// Queues one encoded line. Fails only when the writer is gone (the client disconnected).
    pub async fn send_line(&self, line: String) -> bool {
        self.inner.lines.send(line).await.is_ok()
    }

    pub async fn respond(&self, id: RequestId, result: Value) {
        self.send_line(Message::Response { id, result }.encode())
            .await;
    }

    pub async fn respond_error(&self, id: Option<RequestId>, error: JsonRpcErrorBody) {
        self.send_line(Message::Error { id, error }.encode()).await;
    }

    /// Suppresses the given notification methods for this connection.
    pub fn opt_out(&self, methods: &[String]) {
        if let Ok(mut set) = self.inner.opted_out.lock() {
            set.extend(methods.iter().cloned());
        }
    }

    pub async fn notify<N: Notification>(&self, params: &N::Params) {
        self.notify_raw(N::NAME, params).await;
    }

    pub async fn notify_raw(&self, method: &str, params: &impl Serialize) {
        let opted_out = self
            .inner
            .opted_out
            .lock()
            .map(|s| s.contains(method))
            .unwrap_or(false);
        if opted_out {
            return;
        }
        let params = match serde_json::to_value(params) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("cannot encode {method} notification: {e}");
                return;
            }
        };
        let line = Message::Notification {
            method: method.to_string(),
            params: Some(params),
        }
        .encode();
        self.send_line(line).await;
    }

    /// Sends a server-to-client request; integer ids count from 0 as the official server does.
    pub async fn request<R: ServerRequest>(&self, params: &R::Params) -> PendingRequest {
        let id = self.inner.next_request_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.inner.pending.lock() {
            pending.insert(id, tx);
        }
        let params = serde_json::to_value(params).unwrap_or(Value::Null);
        let line = Message::Request {
            id: RequestId::Integer(id),
            method: R::NAME.to_string(),
            params: Some(params),
        }
        .encode();
        self.send_line(line).await;
        PendingRequest {
            id,
            reply: rx,
            client: self.clone(),
        }
    }

    /// Routes a client's reply to the request waiting for it. Returns false for unknown ids.
    pub fn resolve(&self, id: &RequestId, reply: ClientReply) -> bool {
        let RequestId::Integer(n) = id else {
            return false;
        };
        let waiter = self.inner.pending.lock().ok().and_then(|mut p| p.remove(n));
        match waiter {
            Some(tx) => tx.send(reply).is_ok(),
            None => false,
        }
    }

    fn forget(&self, id: i64) {
        if let Ok(mut p) = self.inner.pending.lock() {
            p.remove(&id);
        }
    }
}
