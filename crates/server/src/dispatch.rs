//! Typed dispatch: one handler per method, registered by its [`Method`] type. The table
//! decodes params (-32602 naming the bad field), and hands the handler a [`Responder`] for
//! `M::Response`, so a handler answers and then does what follows the answer in one place.

use crate::client::ClientConnection;
use crate::router::Router;
use crate::rpc_error::rpc_error;
use codex_core::{CoreError, Reply, Runtime};
use codex_protocol::jsonrpc::{JsonRpcErrorBody, RequestId};
use codex_protocol::methods::Method;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
type Erased = Box<dyn Fn(Cx, RequestId, Option<Value>) -> BoxFuture + Send + Sync>;

/// What a handler works with: the runtime and the client that asked.
#[derive(Clone)]
pub struct Cx {
    pub runtime: Runtime,
    pub client: Arc<ClientConnection>,
    /// Subscriptions and who gets what (thread subscriptions are changed by handlers).
    pub(crate) router: Router,
}

/// The answer channel of one request of method `M`.
pub struct Responder<M> {
    client: Arc<ClientConnection>,
    id: RequestId,
    _method: PhantomData<fn() -> M>,
}

impl<M: Method> Responder<M>
where
    M::Response: Send + 'static,
{
    /// Answers; true when the answer was a success (what follows a success may go on).
    pub async fn answer(self, result: Result<M::Response, CoreError>) -> bool {
        match result {
            Ok(response) => {
                let _ = self.client.peer.respond(self.id, &response).await;
                true
            }
            Err(e) => {
                self.error(rpc_error(e)).await;
                false
            }
        }
    }

    /// Like [`Responder::answer`], but an answer whose encoded frame is longer than
    /// `max_bytes` is not sent: `oversized(its length)` is answered instead.
    pub async fn answer_within(
        self,
        result: Result<M::Response, CoreError>,
        max_bytes: usize,
        oversized: impl FnOnce(usize) -> CoreError,
    ) -> bool {
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                self.error(rpc_error(e)).await;
                return false;
            }
        };
        match codex_jsonrpc::Frame::response(&self.id, &response) {
            Ok(frame) if frame.len() <= max_bytes => {
                let _ = self.client.peer.send(frame).await;
                true
            }
            Ok(frame) => {
                self.error(rpc_error(oversized(frame.len()))).await;
                false
            }
            Err(e) => {
                self.error(JsonRpcErrorBody::internal(e.to_string())).await;
                false
            }
        }
    }

    /// Answers with a protocol error.
    pub async fn error(self, error: JsonRpcErrorBody) {
        let _ = self.client.peer.respond_error(Some(self.id), error).await;
    }

    /// The responder as a core [`Reply`], for operations that answer and then go on.
    pub fn reply(self) -> Reply<M::Response>
    where
        M: 'static,
    {
        Reply::new(move |result| Box::pin(self.answer(result)))
    }
}

struct Entry {
    /// Run on the connection's reader, before the next message is read (`initialize`).
    inline: bool,
    call: Erased,
}

/// Every method the server answers.
#[derive(Default)]
pub struct HandlerTable {
    entries: HashMap<&'static str, Entry>,
}

impl HandlerTable {
    /// Registers the handler of `M`; it runs in its own task.
    pub fn on<M, F, Fut>(&mut self, handler: F)
    where
        M: Method + 'static,
        M::Params: Send,
        M::Response: Send + 'static,
        F: Fn(Cx, M::Params, Responder<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.insert::<M, F, Fut>(false, handler);
    }

    /// Registers the handler of `M` to run in order on the connection's reader: the next
    /// message is read only after it returns (the handshake).
    pub fn on_inline<M, F, Fut>(&mut self, handler: F)
    where
        M: Method + 'static,
        M::Params: Send,
        M::Response: Send + 'static,
        F: Fn(Cx, M::Params, Responder<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.insert::<M, F, Fut>(true, handler);
    }

    fn insert<M, F, Fut>(&mut self, inline: bool, handler: F)
    where
        M: Method + 'static,
        M::Params: Send,
        M::Response: Send + 'static,
        F: Fn(Cx, M::Params, Responder<M>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let call: Erased = Box::new(move |cx: Cx, id: RequestId, raw: Option<Value>| {
            let handler = handler.clone();
            Box::pin(async move {
                let responder = Responder::<M> {
                    client: cx.client.clone(),
                    id,
                    _method: PhantomData,
                };
                match parse_params::<M::Params>(raw) {
                    Ok(params) => handler(cx, params, responder).await,
                    Err(e) => responder.error(e).await,
                }
            })
        });
        if self
            .entries
            .insert(M::NAME, Entry { inline, call })
            .is_some()
        {
            tracing::error!(
                "two handlers for {}; the last one registered answers",
                M::NAME
            );
        }
    }

    pub fn handles(&self, method: &str) -> bool {
        self.entries.contains_key(method)
    }

    /// Whether `method` runs on the reader (see [`HandlerTable::on_inline`]).
    pub fn is_inline(&self, method: &str) -> bool {
        self.entries.get(method).is_some_and(|e| e.inline)
    }

    /// Handles one request; an unknown method is answered -32601.
    pub fn dispatch(
        &self,
        cx: Cx,
        id: RequestId,
        method: &str,
        params: Option<Value>,
    ) -> BoxFuture {
        match self.entries.get(method) {
            Some(entry) => (entry.call)(cx, id, params),
            None => {
                let error = JsonRpcErrorBody::method_not_found(method);
                Box::pin(async move {
                    let _ = cx.client.peer.respond_error(Some(id), error).await;
                })
            }
        }
    }
}

/// Decodes params; a missing `params` is an empty object.
pub fn parse_params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, JsonRpcErrorBody> {
    let value = params.unwrap_or_else(|| Value::Object(Default::default()));
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err(e) => {
            let message = match culprit_field::<T>(&value, &e.to_string()) {
                Some(field) => format!("invalid params: `{field}`: {e}"),
                None => format!("invalid params: {e}"),
            };
            Err(JsonRpcErrorBody::invalid_params(message))
        }
    }
}

/// serde reports a wrongly typed value without its field name ("invalid type: string, expected
/// a boolean"). The culprit is the top-level key whose removal changes the error: serde stops
/// at the first bad value and checks missing fields only after all present ones.
fn culprit_field<T: DeserializeOwned>(value: &Value, error: &str) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    if error.contains("missing field") || error.contains("unknown field") {
        return None; // serde already names the field
    }
    map.keys()
        .find(|key| {
            let mut without = map.clone();
            without.remove(*key);
            match serde_json::from_value::<T>(Value::Object(without)) {
                Ok(_) => true,
                Err(other) => other.to_string() != error,
            }
        })
        .cloned()
}
