//! The event source: starts the runtime in-process and hands exec typed values, requests in and
//! [`Incoming`] notifications and server requests out. It is the only module of exec that
//! touches the runtime; everything else works on protocol types. When the in-memory JSON-RPC
//! connection lands, this module's body becomes a client over it and nothing else changes.

use codex_core::client::ClientHandle;
use codex_core::config::Config;
use codex_core::Runtime;
use codex_protocol::jsonrpc::{JsonRpcErrorBody, Message, RequestId};
use codex_protocol::methods::typed::{ServerNotification, ServerRequest};
use codex_protocol::v2::{
    ThreadListParams, ThreadListResponse, ThreadResumeParams, ThreadResumeResponse,
    ThreadStartParams, ThreadStartResponse, TurnInterruptParams, TurnStartParams,
    TurnStartResponse,
};
use serde::Serialize;
use tokio::sync::mpsc;

/// A failure of the runtime to do what exec asked.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SourceError(#[from] codex_core::CoreError);

/// Something the runtime sent. Moved once from here to the loop, so not boxed.
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
    runtime: Runtime,
    client: ClientHandle,
    lines: mpsc::Receiver<String>,
    /// Start-up warnings (e.g. no kernel sandbox), delivered first as the app-server sends
    /// them right after `initialize`.
    startup: std::collections::VecDeque<ServerNotification>,
}

impl EventSource {
    /// Starts the runtime; `client_name` is the originator the model requests carry.
    pub fn start(config: Config, client_name: &str) -> Result<Self, SourceError> {
        let (client, lines) = ClientHandle::new();
        let runtime = Runtime::new(config, client.clone())?;
        runtime.set_client_info(client_name, codex_protocol::SERVER_VERSION);
        let startup = runtime
            .startup_warnings()
            .into_iter()
            .map(ServerNotification::ConfigWarning)
            .collect();
        Ok(Self {
            runtime,
            client,
            lines,
            startup,
        })
    }

    pub async fn start_thread(
        &self,
        params: ThreadStartParams,
    ) -> Result<ThreadStartResponse, SourceError> {
        Ok(self.runtime.start_thread(params).await?)
    }

    pub async fn resume_thread(
        &self,
        params: ThreadResumeParams,
    ) -> Result<ThreadResumeResponse, SourceError> {
        Ok(self.runtime.resume_thread(params).await?)
    }

    pub async fn list_threads(
        &self,
        params: ThreadListParams,
    ) -> Result<ThreadListResponse, SourceError> {
        Ok(self.runtime.list_threads(params).await?)
    }

    /// Starts a turn; its notifications follow through [`EventSource::next`].
    pub async fn start_turn(
        &self,
        params: TurnStartParams,
    ) -> Result<TurnStartResponse, SourceError> {
        let (response, launch) = self.runtime.start_turn(params).await?;
        if let Some(launch) = launch {
            launch.launch();
        }
        Ok(response)
    }

    /// Stops a running turn; it ends with `turn/completed` (status interrupted).
    pub async fn interrupt(&self, params: TurnInterruptParams) -> Result<(), SourceError> {
        Ok(self.runtime.interrupt(params).await?)
    }

    /// The next message from the runtime; `None` once it has shut down. Lines that are not a
    /// known notification or request are logged and skipped.
    pub async fn next(&mut self) -> Option<Incoming> {
        if let Some(warning) = self.startup.pop_front() {
            return Some(Incoming::Notification(warning));
        }
        loop {
            let line = self.lines.recv().await?;
            match Message::decode(&line) {
                Ok(Message::Notification { method, params }) => {
                    match ServerNotification::decode(&method, params) {
                        Ok(n) => return Some(Incoming::Notification(n)),
                        Err(e) => tracing::debug!("skipping notification: {e}"),
                    }
                }
                Ok(Message::Request { id, method, params }) => {
                    match ServerRequest::decode(&method, params) {
                        Ok(request) => return Some(Incoming::Request { id, request }),
                        Err(e) => {
                            tracing::warn!("refusing server request: {e}");
                            self.refuse(&id, JsonRpcErrorBody::method_not_found(&method));
                        }
                    }
                }
                Ok(other) => tracing::debug!("skipping {other:?}"),
                Err(e) => tracing::warn!("undecodable line from the runtime: {e:?}"),
            }
        }
    }

    /// Answers a server request.
    pub fn answer(&self, id: &RequestId, response: &impl Serialize) {
        let reply = serde_json::to_value(response)
            .map_err(|e| JsonRpcErrorBody::internal(format!("encoding the answer: {e}")));
        self.client.resolve(id, reply);
    }

    /// Answers a server request with an error.
    pub fn refuse(&self, id: &RequestId, error: JsonRpcErrorBody) {
        self.client.resolve(id, Err(error));
    }

    /// Cancels what still runs and waits (bounded) for it to record its end.
    pub async fn shutdown(self) {
        self.runtime.shutdown().await;
    }
}
