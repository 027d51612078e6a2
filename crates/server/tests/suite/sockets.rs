//! Harness for many clients on one server over real sockets: the server's listeners run in the
//! test's runtime ([`Listeners`]), clients connect over a unix socket or a WebSocket and speak
//! JSON-RPC through `codex-jsonrpc`, with every wait bounded.

use super::harness::{Env, WAIT};
use codex_core::config::{parse_overrides, Config};
use codex_core::RuntimeOptions;
use codex_jsonrpc::{Connection, Incoming, Limits, Peer};
use codex_protocol::jsonrpc::RequestId;
use codex_protocol::methods::{Initialize, Method};
use codex_server::listen::{Listen, ListenOptions, Listeners};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A running server with a unix socket and a WebSocket listener.
pub struct SocketServer {
    pub unix: PathBuf,
    pub ws: SocketAddr,
    pub token: String,
    stop: CancellationToken,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl SocketServer {
    /// Starts a server over `env` (mock model overrides plus `extra`), listening on
    /// `<home>/s.sock` and `ws://127.0.0.1:0` with a token file under the home.
    pub async fn start(env: &Env, extra: &[&str]) -> SocketServer {
        let mut overrides = env.mock_overrides();
        overrides.extend(extra.iter().map(|s| s.to_string()));
        let config = Config::load_from(
            env.home.path().to_path_buf(),
            parse_overrides(&overrides).unwrap(),
        )
        .unwrap();
        let options = RuntimeOptions {
            default_cwd: env.work.path().to_path_buf(),
            home_dir: None,
        };
        let unix = env.home.path().join("s.sock");
        let token_file = env.home.path().join("ws.token");
        let listeners = Listeners::bind(
            config,
            options,
            ListenOptions {
                listen: vec![
                    Listen::Unix(Some(unix.clone())),
                    Listen::Ws("127.0.0.1:0".parse().unwrap()),
                ],
                ws_token_file: Some(token_file.clone()),
            },
        )
        .await
        .unwrap();
        let ws = listeners.ws_addrs()[0];
        let token = std::fs::read_to_string(&token_file)
            .unwrap()
            .trim()
            .to_string();
        let stop = CancellationToken::new();
        let until = stop.clone();
        let done = tokio::spawn(listeners.run(async move { until.cancelled().await }));
        SocketServer {
            unix,
            ws,
            token,
            stop,
            done: Some(done),
        }
    }

    /// Stops the server and waits (bounded) for it to finish.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(done) = self.done.take() {
            tokio::time::timeout(WAIT, done)
                .await
                .expect("server did not stop")
                .unwrap();
        }
    }

    /// A client over the unix socket, initialized.
    pub async fn unix_client(&self, name: &str) -> Client {
        let mut client = Client::unix(&self.unix).await;
        client.initialize(name).await;
        client
    }

    /// A client over the WebSocket with the right token, initialized.
    pub async fn ws_client(&self, name: &str) -> Client {
        let mut client = Client::ws(self.ws, Some(&self.token)).await.unwrap();
        client.initialize(name).await;
        client
    }
}

/// One connected client. What the server sends is forwarded to an unbounded queue at once, so
/// a test waiting on an answer never stalls the connection's reader.
pub struct Client {
    pub peer: Peer,
    rx: mpsc::UnboundedReceiver<Incoming>,
    backlog: VecDeque<Incoming>,
    /// Everything received, in order.
    pub log: Vec<Incoming>,
    connection_closing: Option<codex_jsonrpc::Closing>,
}

impl Client {
    fn over(connection: Connection) -> Client {
        let (peer, mut incoming, closing) = connection.into_parts();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = incoming.recv().await {
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        Client {
            peer,
            rx,
            backlog: VecDeque::new(),
            log: Vec::new(),
            connection_closing: Some(closing),
        }
    }

    pub async fn unix(path: &Path) -> Client {
        let stream = tokio::net::UnixStream::connect(path).await.unwrap();
        Client::over(Connection::stream(stream, Limits::default()))
    }

    /// Connects over the WebSocket presenting `token` (none: no `Authorization` header).
    pub async fn ws(
        addr: SocketAddr,
        token: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = format!("ws://{addr}/").into_client_request().unwrap();
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("Authorization", format!("Bearer {token}").parse().unwrap());
        }
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(request, tcp).await?;
        Ok(Client::over(codex_server::listen::websocket_connection(
            ws,
            Limits::default(),
        )))
    }

    pub async fn initialize(&mut self, name: &str) -> Value {
        let result = self
            .call::<Initialize>(json!({"clientInfo": {"name": name, "version": "1"}}))
            .await;
        self.peer
            .send(codex_jsonrpc::Frame::notification_encoded(
                "initialized",
                "{}",
            ))
            .await
            .unwrap();
        result
    }

    /// Calls `method` and returns its result or error object.
    pub async fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let pending = self.peer.request_raw(method, &params).await.unwrap();
        match tokio::time::timeout(WAIT, pending.reply()).await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(codex_jsonrpc::RequestError::Rejected(e))) => {
                Err(serde_json::to_value(e).unwrap())
            }
            Ok(Err(e)) => panic!("{method}: {e}"),
            Err(_) => panic!("timed out waiting for the answer to {method}"),
        }
    }

    pub async fn call<M: Method>(&mut self, params: Value) -> Value {
        match self.try_call(M::NAME, params).await {
            Ok(result) => result,
            Err(e) => panic!("{} failed: {e}", M::NAME),
        }
    }

    /// The next message satisfying `pred` (from the backlog first); it is consumed.
    pub async fn next(&mut self, what: &str, pred: impl Fn(&Incoming) -> bool) -> Incoming {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(message)) => {
                    self.log.push(message.clone());
                    if pred(&message) {
                        return message;
                    }
                    self.backlog.push_back(message);
                }
                Ok(None) => panic!("connection closed while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; backlog: {:?}", self.backlog),
            }
        }
    }

    /// Params of the next notification `method` about `thread_id`.
    pub async fn notification(&mut self, method: &str, thread_id: &str) -> Value {
        let what = format!("{method} for {thread_id}");
        let message = self
            .next(&what, |m| {
                matches!(m, Incoming::Notification { method: m, params: Some(p) }
                    if m == method && thread_of(p) == Some(thread_id))
            })
            .await;
        match message {
            Incoming::Notification { params, .. } => params.unwrap_or(Value::Null),
            Incoming::Request { .. } => unreachable!("matched a notification"),
        }
    }

    /// The next server request: its id, method and params.
    pub async fn server_request(&mut self) -> (RequestId, String, Value) {
        match self
            .next("a server request", |m| {
                matches!(m, Incoming::Request { .. })
            })
            .await
        {
            Incoming::Request { id, method, params } => (id, method, params.unwrap_or_default()),
            Incoming::Notification { .. } => unreachable!("matched a request"),
        }
    }

    pub async fn answer(&self, id: RequestId, result: Value) {
        self.peer.respond(id, &result).await.unwrap();
    }

    /// Messages received so far, without waiting.
    pub fn drain(&mut self) {
        while let Ok(message) = self.rx.try_recv() {
            self.log.push(message.clone());
            self.backlog.push_back(message);
        }
    }

    /// Whether a notification `method` has arrived so far (without waiting).
    pub fn has_received(&mut self, method: &str) -> bool {
        self.drain();
        self.log.iter().any(|m| is_notification(m, method))
    }

    /// Methods of every notification received so far about `thread_id`, in order.
    pub fn methods_for(&mut self, thread_id: &str) -> Vec<String> {
        self.drain();
        self.log
            .iter()
            .filter_map(|m| match m {
                Incoming::Notification {
                    method,
                    params: Some(p),
                } if thread_of(p) == Some(thread_id) => Some(method.clone()),
                _ => None,
            })
            .collect()
    }

    /// Closes the connection from the client's side.
    pub async fn disconnect(mut self) {
        if let Some(closing) = self.connection_closing.take() {
            closing.close(WAIT).await;
        }
    }
}

/// The thread a notification is about.
pub fn thread_of(params: &Value) -> Option<&str> {
    params["threadId"]
        .as_str()
        .or_else(|| params["thread"]["id"].as_str())
}

/// Whether a message is notification `method`.
pub fn is_notification(message: &Incoming, method: &str) -> bool {
    matches!(message, Incoming::Notification { method: m, .. } if m == method)
}
