//! The server's side of the core's [`ClientSink`]: which connection gets what.
//!
//! - A notification about a thread goes to the thread's subscribers ([`Subscriptions`]);
//!   `thread/status/changed` and `thread/closed` go to every client (a thread list shows every
//!   thread's status), and `serverRequest/resolved` also to the client that started the turn.
//!   A notification about no thread (account news) goes to every client, except those only
//!   their origin can name (`command/exec` output), which go to that connection alone.
//! - Fan-out never waits: each client has a bounded queue, and one that overflows is dropped
//!   ([`ClientConnection::kick`]) instead of holding up the others.
//! - A server request (an approval) goes to the client that started the turn. When that client
//!   disconnects before answering, the same request (same id) goes to the next subscriber of
//!   the thread, and so on; when nobody is left, the request fails with
//!   [`RequestError::Closed`] and the core resolves it as the thread's policy says for an
//!   approval nobody can give (declined), then announces `serverRequest/resolved`. The core
//!   takes the first answer only, so a request is never answered twice.

use crate::client::ClientConnection;
use crate::subscriptions::Subscriptions;
use codex_core::sink::BoxFuture;
use codex_core::{ClientSink, Origin, PendingReply, Route};
use codex_jsonrpc::{Frame, PendingRequest, RequestError};
use codex_protocol::jsonrpc::RequestId;
use codex_protocol::methods::{CommandExecOutputDelta, Notification};
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// Thread notifications every client gets, subscribed or not.
const BROADCAST: [&str; 2] = ["thread/status/changed", "thread/closed"];
/// Also sent to the client that started the turn, subscribed or not.
const SERVER_REQUEST_RESOLVED: &str = "serverRequest/resolved";
/// Notifications about something only their origin connection can name (a `command/exec`
/// process id is chosen by, and scoped to, the connection that started it).
const CONNECTION_SCOPED: &[&str] = &[CommandExecOutputDelta::NAME];

/// Cheap to clone; every clone is the same router.
#[derive(Clone, Default)]
pub struct Router {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    connections: RwLock<Vec<Arc<ClientConnection>>>,
    subscriptions: Subscriptions,
    /// Server request ids, one sequence for the whole server: a request handed to another
    /// client keeps its id, and no two requests share one on any connection.
    next_request_id: AtomicI64,
}

impl Router {
    pub fn attach(&self, client: Arc<ClientConnection>) {
        if let Ok(mut all) = self.shared.connections.write() {
            all.push(client);
        }
    }

    /// Forgets a connection; returns the threads it was the last subscriber of.
    pub fn detach(&self, origin: Origin) -> Vec<String> {
        if let Ok(mut all) = self.shared.connections.write() {
            all.retain(|c| c.origin != origin);
        }
        self.shared.subscriptions.detach(origin)
    }

    pub fn subscriptions(&self) -> &Subscriptions {
        &self.shared.subscriptions
    }

    fn connection(&self, origin: Origin) -> Option<Arc<ClientConnection>> {
        self.shared
            .connections
            .read()
            .ok()
            .and_then(|all| all.iter().find(|c| c.origin == origin).cloned())
    }

    fn reachable(&self) -> Vec<Arc<ClientConnection>> {
        self.shared
            .connections
            .read()
            .map(|all| all.iter().filter(|c| c.reachable()).cloned().collect())
            .unwrap_or_default()
    }

    /// Who answers a server request about `route`, skipping those `tried`: the client that
    /// started the work, then the thread's subscribers in subscription order.
    fn responder(&self, route: &Route, tried: &[Origin]) -> Option<Arc<ClientConnection>> {
        let origin = route
            .origin
            .filter(|o| !tried.contains(o))
            .and_then(|o| self.connection(o))
            .filter(|c| c.reachable());
        origin.or_else(|| {
            let thread_id = route.thread_id.as_deref()?;
            self.shared
                .subscriptions
                .subscribers(thread_id)
                .into_iter()
                .find(|c| !tried.contains(&c.origin) && c.reachable())
        })
    }

    /// Sends request `id` to the first client that takes it; `tried` grows with every client
    /// asked.
    async fn send_request(
        &self,
        route: &Route,
        id: &RequestId,
        method: &str,
        params_json: &str,
        tried: &mut Vec<Origin>,
    ) -> Result<PendingRequest, RequestError> {
        loop {
            let client = self.responder(route, tried).ok_or(RequestError::Closed)?;
            tried.push(client.origin);
            match client
                .peer
                .request_encoded_as(id.clone(), method, params_json)
                .await
            {
                Ok(pending) => return Ok(pending),
                Err(_closed) => continue,
            }
        }
    }
}

impl ClientSink for Router {
    fn notify<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        frame: Frame,
    ) -> BoxFuture<'a, ()> {
        if CONNECTION_SCOPED.contains(&method) {
            let origin = route.origin.and_then(|o| self.connection(o));
            if let Some(client) = origin.filter(|c| c.reachable()) {
                client.deliver(method, &frame);
            }
            return Box::pin(async {});
        }
        match route.thread_id.as_deref() {
            None => {
                for client in self.reachable() {
                    client.deliver(method, &frame);
                }
            }
            Some(thread_id) => {
                let reached = self.shared.subscriptions.publish(thread_id, method, &frame);
                if BROADCAST.contains(&method) {
                    for client in self.reachable() {
                        if !reached.contains(&client.origin) {
                            client.deliver(method, &frame);
                        }
                    }
                } else if method == SERVER_REQUEST_RESOLVED {
                    let starter = route
                        .origin
                        .filter(|o| !reached.contains(o))
                        .and_then(|o| self.connection(o));
                    if let Some(client) = starter.filter(|c| c.reachable()) {
                        client.deliver(method, &frame);
                    }
                }
            }
        }
        Box::pin(async {})
    }

    fn request<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        params_json: String,
    ) -> BoxFuture<'a, Result<PendingReply, RequestError>> {
        Box::pin(async move {
            let id =
                RequestId::Integer(self.shared.next_request_id.fetch_add(1, Ordering::Relaxed));
            let mut tried = Vec::new();
            let first = self
                .send_request(route, &id, method, &params_json, &mut tried)
                .await?;
            let router = self.clone();
            let route = route.clone();
            let answer_id = id.clone();
            let answer = async move {
                let mut pending = first;
                loop {
                    match pending.reply().await {
                        // The client left without answering: hand the request on.
                        Err(RequestError::Closed) => {
                            tracing::info!(
                                "server request {answer_id} handed on: its client disconnected"
                            );
                            pending = router
                                .send_request(&route, &answer_id, method, &params_json, &mut tried)
                                .await?;
                        }
                        other => return other,
                    }
                }
            };
            let answer: BoxFuture<'static, Result<Value, RequestError>> = Box::pin(answer);
            Ok(PendingReply::new(id, answer))
        })
    }
}
