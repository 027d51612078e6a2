//! The app-server: JSON-RPC connections in front of a [`codex_core::Runtime`].
//!
//! # Layout
//! - [`AppServer`] (this file): one runtime, the router and the handler table; attaches
//!   connections ([`AppServer::serve`]) and runs whole sessions ([`serve_stdio`],
//!   [`serve_stream`]).
//! - `connection`: reading one connection's requests, in order, into handler tasks.
//! - `client`: what the server knows of a connected client (identity, opt-outs, origin), and
//!   dropping one that does not keep up.
//! - `router`: the core's `ClientSink`: who receives a notification, who answers a server
//!   request (and who next, when that client leaves).
//! - `subscriptions`: who follows which thread; holding a resuming client's notifications
//!   until its answer is out; `reattach`: a running turn's items for that answer.
//! - [`listen`]: listeners (`stdio://`, `unix://PATH`, `ws://HOST:PORT`), several at once, and
//!   [`listen::serve_listeners`], which runs them until stdin ends or a signal.
//! - `dispatch`: the typed handler table and [`dispatch::Responder`].
//! - `handlers`: one handler per method, by area (`threads`, `turns`, `models`, `account`,
//!   `initialize`, `review`, `subscriptions`, `command`, `mcp`, `history`, `config`, `fs`,
//!   `skills`, `search`). Add a method there.
//! - `rpc_error`: core errors to JSON-RPC errors.
//! - `watches`: a connection's `fs/watch` registry.
//!
//! A second connection (a unix socket, a WebSocket) attaches with [`AppServer::serve`] on its
//! own [`Connection`]; the runtime, router and handlers are shared.

mod client;
mod connection;
pub mod dispatch;
mod handlers;
pub mod listen;
mod reattach;
mod router;
mod rpc_error;
mod subscriptions;
mod watches;

use client::ClientConnection;
use codex_core::config::{Config, Settings};
use codex_core::{Origin, Runtime, RuntimeOptions};
use codex_jsonrpc::{Closing, Connection, Limits};
use dispatch::Cx;
use router::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(transparent)]
    Core(#[from] codex_core::CoreError),
    #[error("stdio: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Rpc(#[from] codex_jsonrpc::RequestError),
    #[error(transparent)]
    Listen(#[from] listen::error::ListenError),
}

/// Default longest accepted input line (bytes); `app_server.max_line_bytes` in config overrides.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// Default bound of each client's outgoing queue (messages); `app_server.max_queued_messages`
/// in config overrides. A client that falls this far behind is disconnected.
pub const DEFAULT_MAX_QUEUED_MESSAGES: usize = 16 * 1024;

/// How long a closing connection may take to flush what is queued (for a client dropped for
/// not keeping up: to read why, if it reads again).
const FLUSH_WAIT: Duration = Duration::from_secs(10);

/// One runtime serving any number of connections.
pub struct AppServer {
    runtime: Runtime,
    router: Router,
    handlers: Arc<dispatch::HandlerTable>,
    limits: Limits,
    next_origin: AtomicU64,
    /// Fired when the server stops: connections stop reading requests.
    stop: CancellationToken,
}

impl AppServer {
    /// # Errors
    /// A configuration that does not resolve.
    pub fn new(config: Config, options: RuntimeOptions) -> Result<AppServer, ServerError> {
        let router = Router::default();
        let runtime = Runtime::new(config, Arc::new(router.clone()), options)?;
        let limits = limits(&runtime.config().settings());
        Ok(AppServer {
            runtime,
            router,
            handlers: Arc::new(handlers::table()),
            limits,
            next_origin: AtomicU64::new(1),
            stop: CancellationToken::new(),
        })
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Bounds for new connections (from `app_server.*` in the configuration).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Serves `connection` until its input ends (or it is dropped for not keeping up, or the
    /// server stops) and every request it made is answered. It stays attached (work it started
    /// still reports to it) until [`Attached::close`].
    pub async fn serve(&self, connection: Connection) -> Attached {
        let (peer, incoming, closing) = connection.into_parts();
        let origin = Origin(self.next_origin.fetch_add(1, Ordering::Relaxed));
        let client = Arc::new(ClientConnection::new(
            origin,
            peer,
            self.limits.outgoing_queue,
        ));
        self.router.attach(client.clone());
        let cx = Cx {
            runtime: self.runtime.clone(),
            client: client.clone(),
            router: self.router.clone(),
        };
        connection::serve(cx, self.handlers.clone(), incoming, self.stop.clone()).await;
        Attached {
            client,
            router: self.router.clone(),
            runtime: self.runtime.clone(),
            closing,
        }
    }

    /// Stops reading requests on every connection (they finish what they started).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

/// A connection whose input ended, still attached.
pub struct Attached {
    client: Arc<ClientConnection>,
    router: Router,
    runtime: Runtime,
    closing: Closing,
}

impl Attached {
    /// Detaches the connection, hands its unanswered server requests to other clients of
    /// their threads, flushes what is queued for it, and unloads the threads it was the last
    /// subscriber of (once they are idle).
    pub async fn close(self) {
        let orphaned = self.router.detach(self.client.origin);
        self.client.fs_watches.close();
        self.client.peer.fail_pending();
        self.closing.close(FLUSH_WAIT).await;
        for thread_id in orphaned {
            handlers::subscriptions::unload_when_unwanted(
                self.runtime.clone(),
                self.router.clone(),
                thread_id,
            );
        }
    }
}

/// Bounds for connections, from `app_server.*` (small values are raised to a floor).
fn limits(settings: &Settings) -> Limits {
    let max_line_bytes = settings
        .max_line_bytes
        .map_or(DEFAULT_MAX_LINE_BYTES, |n| n.max(1024));
    let outgoing_queue = settings
        .max_queued_messages
        .map_or(DEFAULT_MAX_QUEUED_MESSAGES, |n| n.max(16));
    Limits {
        max_line_bytes,
        outgoing_queue,
        ..Limits::default()
    }
}

/// One client session over `connection`: serve it until its input ends, stop running turns
/// (they report their end to the client), then flush and close.
async fn session(server: AppServer, connection: Connection) {
    let attached = server.serve(connection).await;
    server.runtime.shutdown().await;
    attached.close().await;
}

/// Serves one client over stdin/stdout until stdin closes; flushes pending output and returns.
///
/// # Errors
/// A configuration that does not resolve, or an unreadable working directory.
pub async fn serve_stdio(config: Config) -> Result<(), ServerError> {
    let server = AppServer::new(config, RuntimeOptions::from_process()?)?;
    let connection = Connection::stdio(server.limits());
    session(server, connection).await;
    Ok(())
}

/// Serves one client over a byte stream (an in-memory pipe for in-process clients and tests,
/// a socket) until its input ends, exactly as [`serve_stdio`] serves stdio.
///
/// # Errors
/// A configuration that does not resolve.
pub async fn serve_stream<S>(
    config: Config,
    options: RuntimeOptions,
    stream: S,
) -> Result<(), ServerError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let server = AppServer::new(config, options)?;
    let connection = Connection::stream(stream, server.limits());
    session(server, connection).await;
    Ok(())
}
