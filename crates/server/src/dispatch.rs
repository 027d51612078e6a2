//! Connection state and routing: the handshake, decoding errors, replies to our server
//! requests, and one task per client request (bounded) so slow requests never block the reader.

use crate::handlers;
use codex_core::client::ClientHandle;
use codex_core::Runtime;
use codex_protocol::jsonrpc::{error_codes, DecodeError, JsonRpcErrorBody, Message, RequestId};
use codex_protocol::methods::{self as m, Method};
use codex_protocol::v2::{InitializeParams, InitializeResponse, ServerInfo};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{oneshot, Semaphore};

/// Requests handled at once; beyond this the server answers "overloaded" instead of queueing.
const MAX_IN_FLIGHT: usize = 512;

pub struct Connection {
    runtime: Runtime,
    initialized: bool,
    in_flight: Arc<Semaphore>,
    tasks: tokio::task::JoinSet<()>,
    /// Per thread, the completion signal of the last request that named it: requests on one
    /// thread run in arrival order (as the official server does); others run concurrently.
    thread_chains: HashMap<String, oneshot::Receiver<()>>,
}

/// Beyond this many remembered chains, finished ones are pruned.
const CHAIN_PRUNE_AT: usize = 1024;

impl Connection {
    pub fn new(runtime: Runtime) -> Self {
        Connection {
            runtime,
            initialized: false,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            tasks: tokio::task::JoinSet::new(),
            thread_chains: HashMap::new(),
        }
    }

    pub fn client(&self) -> &ClientHandle {
        self.runtime.client()
    }

    /// Waits for requests still being handled, so their responses are written before exit.
    pub async fn finish(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    pub async fn handle_line(&mut self, line: &str) {
        while self.tasks.try_join_next().is_some() {}
        match Message::decode(line) {
            Err(DecodeError::Parse(reason)) => {
                tracing::warn!("unparsable input line: {reason}");
                self.client()
                    .respond_error(
                        None,
                        JsonRpcErrorBody::new(
                            error_codes::PARSE_ERROR,
                            format!("parse error: {reason}"),
                        ),
                    )
                    .await;
            }
            Err(DecodeError::Invalid { id, reason }) => {
                self.client()
                    .respond_error(
                        id,
                        JsonRpcErrorBody::invalid_request(format!("invalid request: {reason}")),
                    )
                    .await;
            }
            Ok(Message::Request { id, method, params }) => self.request(id, method, params).await,
            Ok(Message::Notification { method, .. }) => {
                tracing::debug!("client notification {method}");
            }
            Ok(Message::Response { id, result }) => {
                if !self.client().resolve(&id, Ok(result)) {
                    tracing::warn!("reply to unknown server request {id}");
                }
            }
            Ok(Message::Error {
                id: Some(id),
                error,
            }) => {
                if !self.client().resolve(&id, Err(error)) {
                    tracing::warn!("error reply to unknown server request {id}");
                }
            }
            Ok(Message::Error { id: None, error }) => {
                tracing::warn!("client reported an error: {}", error.message);
            }
        }
    }

    async fn request(&mut self, id: RequestId, method: String, params: Option<Value>) {
        if method == m::Initialize::NAME {
            let reply = self.initialize(params);
            match reply {
                Ok(result) => {
                    self.client().respond(id, result).await;
                    for warning in self.runtime.startup_warnings() {
                        self.client().notify::<m::ConfigWarning>(&warning).await;
                    }
                }
                Err(e) => self.client().respond_error(Some(id), e).await,
            }
            return;
        }
        if !self.initialized {
            self.client()
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
            self.client().respond_error(Some(id), err).await;
            return;
        };
        let runtime = self.runtime.clone();
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
        self.tasks.spawn(async move {
            if let Some(previous) = previous {
                // Resolves (with an error) when the previous request's sender is dropped.
                let _ = previous.await;
            }
            handlers::handle(&runtime, id, &method, params).await;
            drop(done);
            drop(permit);
        });
    }

    fn initialize(&mut self, params: Option<Value>) -> Result<Value, JsonRpcErrorBody> {
        if self.initialized {
            return Err(JsonRpcErrorBody::invalid_request("Already initialized"));
        }
        let params: InitializeParams = handlers::parse_params(params)?;
        let name = &params.client_info.name;
        if name.is_empty() || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(JsonRpcErrorBody::invalid_request(format!(
                "Invalid clientInfo.name: '{name}'. Must be a valid HTTP header value."
            )));
        }
        if let Some(caps) = &params.capabilities {
            self.client().opt_out(&caps.opt_out_notification_methods);
        }
        self.runtime
            .set_client_info(name, &params.client_info.version);
        self.initialized = true;
        let response = InitializeResponse {
            user_agent: self.runtime.user_agent(),
            codex_home: self.runtime.codex_home().to_path_buf(),
            platform_family: std::env::consts::FAMILY.to_string(),
            platform_os: std::env::consts::OS.to_string(),
            server_info: ServerInfo {
                name: codex_protocol::SERVER_NAME.to_string(),
                version: codex_protocol::SERVER_VERSION.to_string(),
            },
        };
        serde_json::to_value(response).map_err(|e| JsonRpcErrorBody::internal(e.to_string()))
    }
}
