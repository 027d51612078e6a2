//! Serving one connection: requests are read in order; the handshake runs inline, every other
//! request in its own task (bounded: beyond the limit the answer is "overloaded" instead of a
//! queue), and requests naming the same thread run in arrival order, as the official server
//! runs them; others run concurrently. Reading stops when the input ends, when the client is
//! dropped for not keeping up, or when the server stops.

use crate::dispatch::{Cx, HandlerTable};
use codex_jsonrpc::Incoming;
use codex_protocol::jsonrpc::{error_codes, JsonRpcErrorBody, RequestId};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Requests handled at once per connection.
const MAX_IN_FLIGHT: usize = 512;
/// Beyond this many remembered per-thread chains, finished ones are pruned.
const CHAIN_PRUNE_AT: usize = 1024;

/// Handles `incoming` until the client's input ends (or the client is dropped, or `stop`
/// fires), then waits until every request it made has been answered.
pub async fn serve(
    cx: Cx,
    handlers: Arc<HandlerTable>,
    mut incoming: mpsc::Receiver<Incoming>,
    stop: CancellationToken,
) {
    let client = cx.client.clone();
    let mut state = Requests {
        cx,
        handlers,
        in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        tasks: JoinSet::new(),
        thread_chains: HashMap::new(),
    };
    loop {
        let message = tokio::select! {
            message = incoming.recv() => message,
            _ = client.kicked() => None,
            _ = stop.cancelled() => None,
        };
        let Some(message) = message else { break };
        while state.tasks.try_join_next().is_some() {}
        match message {
            Incoming::Request { id, method, params } => state.request(id, method, params).await,
            Incoming::Notification { method, .. } => {
                tracing::debug!("client notification {method}");
            }
        }
    }
    // The client is gone: the commands it started die now (nobody else can address them), so
    // the requests waiting on them answer and the wait below ends.
    state.cx.runtime.release_connection(state.cx.client.origin);
    while state.tasks.join_next().await.is_some() {}
}

struct Requests {
    cx: Cx,
    handlers: Arc<HandlerTable>,
    in_flight: Arc<Semaphore>,
    tasks: JoinSet<()>,
    /// Per thread, the completion signal of the last request that named it.
    thread_chains: HashMap<String, oneshot::Receiver<()>>,
}

impl Requests {
    async fn request(&mut self, id: RequestId, method: String, params: Option<Value>) {
        let peer = &self.cx.client.peer;
        if self.handlers.is_inline(&method) {
            self.handlers
                .dispatch(self.cx.clone(), id, &method, params)
                .await;
            return;
        }
        if !self.cx.client.initialized() {
            let _ = peer
                .respond_error(
                    Some(id),
                    JsonRpcErrorBody::invalid_request("Not initialized"),
                )
                .await;
            return;
        }
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            let err = JsonRpcErrorBody::new(
                error_codes::SERVER_OVERLOADED,
                "Server overloaded; retry later.",
            )
            .with_data(serde_json::json!({"reason": "server_overloaded"}));
            let _ = peer.respond_error(Some(id), err).await;
            return;
        };
        let (previous, done) = match params
            .as_ref()
            .and_then(|p| p.get("threadId"))
            .and_then(Value::as_str)
        {
            Some(thread_id) => {
                let (tx, rx) = oneshot::channel::<()>();
                if self.thread_chains.len() >= CHAIN_PRUNE_AT {
                    self.thread_chains.retain(|_, rx| {
                        matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty))
                    });
                }
                (
                    self.thread_chains.insert(thread_id.to_string(), rx),
                    Some(tx),
                )
            }
            None => (None, None),
        };
        let handling = self.handlers.dispatch(self.cx.clone(), id, &method, params);
        self.tasks.spawn(async move {
            if let Some(previous) = previous {
                // Resolves (with an error) when the previous request's sender is dropped.
                let _ = previous.await;
            }
            handling.await;
            drop(done);
            drop(permit);
        });
    }
}
