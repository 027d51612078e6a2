//! The event source: an in-process app-server over an in-memory JSON-RPC connection, driven as
//! a client. Exec sends typed requests and gets typed notifications and server requests back,
//! exactly what an SDK over stdio would see. It is the only module of exec that knows how the
//! server runs; everything else works on protocol types.

use codex_core::config::Config;
use codex_core::RuntimeOptions;
use codex_jsonrpc::{memory_pair, Closing, Connection, Frame, Incoming as Wire, Limits, Peer};
use codex_protocol::jsonrpc::{JsonRpcErrorBody, RequestId};
use codex_protocol::methods::typed::{ServerNotification, ServerRequest};
use codex_protocol::methods::{self as m, Method};
use codex_protocol::v2::{
    ClientInfo, InitializeParams, ThreadListParams, ThreadListResponse, ThreadResumeParams,
    ThreadResumeResponse, ThreadStartParams, ThreadStartResponse, TurnInterruptParams,
    TurnStartParams, TurnStartResponse,
};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the in-process server may take to finish after exec closes its end.
const SERVER_STOP: Duration = Duration::from_secs(10);

/// A request exec made that the server refused or could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Server(String),
    #[error("starting the in-process server: {0}")]
    Start(String),
}

impl From<codex_jsonrpc::RequestError> for SourceError {
    fn from(e: codex_jsonrpc::RequestError) -> Self {
        match e {
            // The server's own message is what the user needs, without our framing.
            codex_jsonrpc::RequestError::Rejected(body) => SourceError::Server(body.message),
            other => SourceError::Server(other.to_string()),
        }
    }
}

/// Something the server sent. Moved once from here to the loop, so not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Incoming {
    Notification(ServerNotification),
    Request {
        id: RequestId,
        request: ServerRequest,
    },
}

pub struct EventSource {
    peer: Peer,
    incoming: mpsc::Receiver<Wire>,
    closing: Closing,
    server: tokio::task::JoinHandle<Result<(), codex_server::ServerError>>,
}

impl EventSource {
    /// Starts the server and does the handshake; `client_name` is the originator the model
    /// requests carry.
    pub async fn start(config: Config, client_name: &str) -> Result<Self, SourceError> {
        let options =
            RuntimeOptions::from_process().map_err(|e| SourceError::Start(e.to_string()))?;
        let (server_end, client_end) = memory_pair();
        let server = tokio::spawn(codex_server::serve_stream(config, options, server_end));
        let (peer, incoming, closing) =
            Connection::stream(client_end, Limits::default()).into_parts();
        let source = EventSource {
            peer,
            incoming,
            closing,
            server,
        };
        source
            .call::<m::Initialize>(&InitializeParams {
                client_info: ClientInfo {
                    name: client_name.to_string(),
                    title: None,
                    version: codex_protocol::SERVER_VERSION.into(),
                },
                capabilities: None,
            })
            .await?;
        Ok(source)
    }

    async fn call<M: Method>(&self, params: &M::Params) -> Result<M::Response, SourceError> {
        Ok(self.peer.request::<M>(params).await?)
    }

    pub async fn start_thread(
        &self,
        params: ThreadStartParams,
    ) -> Result<ThreadStartResponse, SourceError> {
        self.call::<m::ThreadStart>(&params).await
    }

    pub async fn resume_thread(
        &self,
        params: ThreadResumeParams,
    ) -> Result<ThreadResumeResponse, SourceError> {
        self.call::<m::ThreadResume>(&params).await
    }

    pub async fn list_threads(
        &self,
        params: ThreadListParams,
    ) -> Result<ThreadListResponse, SourceError> {
        self.call::<m::ThreadList>(&params).await
    }

    /// Starts a turn; its notifications follow through [`EventSource::next`].
    pub async fn start_turn(
        &self,
        params: TurnStartParams,
    ) -> Result<TurnStartResponse, SourceError> {
        self.call::<m::TurnStart>(&params).await
    }

    /// Stops a running turn; it ends with `turn/completed` (status interrupted).
    pub async fn interrupt(&self, params: TurnInterruptParams) -> Result<(), SourceError> {
        self.call::<m::TurnInterrupt>(&params).await.map(|_| ())
    }

    /// The next message from the server; `None` once it has closed. Messages that are not a
    /// known notification or request are logged and skipped (unknown requests refused).
    pub async fn next(&mut self) -> Option<Incoming> {
        loop {
            match self.incoming.recv().await? {
                Wire::Notification { method, params } => {
                    match ServerNotification::decode(&method, params) {
                        Ok(n) => return Some(Incoming::Notification(n)),
                        Err(e) => tracing::debug!("skipping notification: {e}"),
                    }
                }
                Wire::Request { id, method, params } => {
                    match ServerRequest::decode(&method, params) {
                        Ok(request) => return Some(Incoming::Request { id, request }),
                        Err(e) => {
                            tracing::warn!("refusing server request: {e}");
                            self.refuse(&id, JsonRpcErrorBody::method_not_found(&method));
                        }
                    }
                }
            }
        }
    }

    /// Answers a server request (queued; the answer goes out in order with other frames).
    pub fn answer(&self, id: &RequestId, response: &impl Serialize) {
        let frame = Frame::response(id, response).unwrap_or_else(|e| {
            Frame::error(
                Some(id),
                &JsonRpcErrorBody::internal(format!("encoding the answer: {e}")),
            )
        });
        self.send(frame);
    }

    /// Answers a server request with an error.
    pub fn refuse(&self, id: &RequestId, error: JsonRpcErrorBody) {
        self.send(Frame::error(Some(id), &error));
    }

    fn send(&self, frame: Frame) {
        let peer = self.peer.clone();
        tokio::spawn(async move {
            if peer.send(frame).await.is_err() {
                tracing::debug!("the server closed before an answer could be sent");
            }
        });
    }

    /// Closes exec's end, which the server takes as the end of input: it interrupts what still
    /// runs, records it and stops (bounded).
    pub async fn shutdown(self) {
        self.closing.close(SERVER_STOP).await;
        match tokio::time::timeout(SERVER_STOP, self.server).await {
            Ok(Ok(Err(e))) => tracing::warn!("the in-process server stopped with an error: {e}"),
            Ok(Err(e)) => tracing::warn!("the in-process server task failed: {e}"),
            Err(_) => tracing::warn!("the in-process server did not stop in {SERVER_STOP:?}"),
            Ok(Ok(Ok(()))) => {}
        }
    }
}
