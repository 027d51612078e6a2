//! The server's side of the core's [`ClientSink`]: which connection gets what.
//!
//! Today every initialized connection receives every notification (there is one connection
//! per server), and a server request goes to the connection whose request started the work
//! ([`Route::origin`]), falling back to another connection when that one is gone. Routing by
//! thread subscription (several clients on one server) changes [`Router::recipients`] only.

use crate::client::ClientConnection;
use codex_core::sink::BoxFuture;
use codex_core::{ClientSink, Origin, PendingReply, Route};
use codex_jsonrpc::{Frame, RequestError};
use codex_protocol::methods::{CommandExecOutputDelta, Notification};
use std::sync::{Arc, RwLock};

/// Notifications about something only their origin connection can name (a `command/exec`
/// process id is chosen by, and scoped to, the connection that started it).
const CONNECTION_SCOPED: &[&str] = &[CommandExecOutputDelta::NAME];

#[derive(Default)]
pub struct Router {
    connections: RwLock<Vec<Arc<ClientConnection>>>,
}

impl Router {
    pub fn attach(&self, client: Arc<ClientConnection>) {
        if let Ok(mut all) = self.connections.write() {
            all.push(client);
        }
    }

    pub fn detach(&self, origin: Origin) {
        if let Ok(mut all) = self.connections.write() {
            all.retain(|c| c.origin != origin);
        }
    }

    /// The connections a notification about `route` goes to.
    fn recipients(&self, _route: &Route) -> Vec<Arc<ClientConnection>> {
        self.connections
            .read()
            .map(|all| {
                all.iter()
                    .filter(|c| c.initialized() && !c.peer.is_closed())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The connection a server request about `route` goes to: its origin if still there,
    /// else the first other one.
    fn responder(&self, route: &Route) -> Option<Arc<ClientConnection>> {
        let candidates = self.recipients(route);
        route
            .origin
            .and_then(|origin| candidates.iter().find(|c| c.origin == origin).cloned())
            .or_else(|| candidates.into_iter().next())
    }
}

impl ClientSink for Router {
    fn notify<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        frame: Frame,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let origin_only = CONNECTION_SCOPED.contains(&method);
            for client in self.recipients(route) {
                if origin_only && route.origin != Some(client.origin) {
                    continue;
                }
                if client.wants(method) {
                    // A client that is gone misses the notification; the others still get it.
                    let _ = client.peer.send(frame.clone()).await;
                }
            }
        })
    }

    fn request<'a>(
        &'a self,
        route: &'a Route,
        method: &'static str,
        params_json: String,
    ) -> BoxFuture<'a, Result<PendingReply, RequestError>> {
        Box::pin(async move {
            let client = self.responder(route).ok_or(RequestError::Closed)?;
            let pending = client.peer.request_encoded(method, &params_json).await?;
            let id = pending.id().clone();
            Ok(PendingReply::new(id, Box::pin(pending.reply())))
        })
    }
}
