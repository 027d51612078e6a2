//! Listeners: where clients connect. `stdio://` (this process's stdin and stdout),
//! `unix://PATH` (a socket created 0600, one JSON-RPC message per line, as stdio) and
//! `ws://HOST:PORT` (WebSocket, one message per text frame, a bearer token required), several
//! at once, all served by one [`AppServer`].
//!
//! [`serve_listeners`] binds every listener first (a socket in use fails the start), then
//! serves until stdin ends (when stdio is one of the listeners) or SIGINT/SIGTERM; then it
//! stops reading requests, lets running turns end and report to their clients, flushes every
//! connection and removes the unix sockets it created.
//!
//! # Layout
//! - this file: [`Listen`] (parsing `--listen` URLs), [`ListenOptions`], [`Listeners`] (bind,
//!   then run until a stop) and [`serve_listeners`].
//! - `unix`: binding a unix socket privately; `ws`: the WebSocket transport and its token
//!   check; `token`: the token file; `serving`: one accepted connection; [`error`].

pub mod error;
mod serving;
mod token;
mod unix;
mod ws;

use crate::{AppServer, ServerError};
use codex_core::config::Config;
use codex_core::RuntimeOptions;
use codex_jsonrpc::Connection;
use error::ListenError;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use token::{token_file_default, WsToken};
pub use ws::websocket_connection;

/// How long connections may take to finish and flush once the server stops.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// One `--listen` endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Stdio,
    /// `unix://PATH`; `unix://` alone is `$CODEX_HOME/app-server.sock`.
    Unix(Option<PathBuf>),
    Ws(SocketAddr),
}

impl Listen {
    /// Parses a `--listen` URL. A WebSocket address must be loopback unless
    /// `allow_non_loopback`.
    ///
    /// # Errors
    /// [`ListenError`] naming the URL.
    pub fn parse(url: &str, allow_non_loopback: bool) -> Result<Listen, ListenError> {
        if url == "stdio://" {
            return Ok(Listen::Stdio);
        }
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Listen::Unix(
                (!path.is_empty()).then(|| PathBuf::from(path)),
            ));
        }
        let Some(hostport) = url.strip_prefix("ws://") else {
            return Err(ListenError::Unsupported(url.to_string()));
        };
        let hostport = hostport.trim_end_matches('/');
        let bad = |reason: &str| ListenError::BadAddress {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let (host, port) = hostport
            .rsplit_once(':')
            .ok_or_else(|| bad("expected HOST:PORT"))?;
        let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip: IpAddr = match host {
            "localhost" => IpAddr::from([127, 0, 0, 1]),
            other => other
                .parse()
                .map_err(|_| bad("HOST must be an IP address or localhost"))?,
        };
        if !ip.is_loopback() && !allow_non_loopback {
            return Err(ListenError::NotLoopback(url.to_string()));
        }
        Ok(Listen::Ws(SocketAddr::new(ip, port)))
    }
}

/// What `codex app-server` was asked to listen on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListenOptions {
    pub listen: Vec<Listen>,
    /// Where the WebSocket token is read from (when the file exists) or written to; default
    /// `$CODEX_HOME/app-server-ws.token`, written fresh at each start.
    pub ws_token_file: Option<PathBuf>,
}

/// Runs one server on every listener of `options` until stdin ends (with `stdio://`) or
/// SIGINT/SIGTERM. Bound sockets are reported on stderr.
///
/// # Errors
/// A configuration that does not resolve, or a listener that cannot be set up.
pub async fn serve_listeners(
    config: Config,
    runtime_options: RuntimeOptions,
    options: ListenOptions,
) -> Result<(), ServerError> {
    let listeners = Listeners::bind(config, runtime_options, options).await?;
    for addr in listeners.ws_addrs() {
        eprintln!("codex app-server listening on ws://{addr}");
    }
    for path in listeners.unix_paths() {
        eprintln!("codex app-server listening on unix://{}", path.display());
    }
    listeners.run(signalled()).await;
    Ok(())
}

/// Bound listeners accepting connections for one server.
pub struct Listeners {
    server: Arc<AppServer>,
    stdio: bool,
    /// Fired when the stdio client's input ends.
    stop: CancellationToken,
    /// Fired once running turns have ended after a stop: connections then flush and close.
    drained: CancellationToken,
    connections: TaskTracker,
    accepting: Vec<tokio::task::JoinHandle<()>>,
    sockets: Vec<unix::SocketGuard>,
    unix_paths: Vec<PathBuf>,
    ws_addrs: Vec<SocketAddr>,
}

impl Listeners {
    /// Starts the server and binds every listener (a socket in use fails the start);
    /// connections are accepted from here on.
    ///
    /// # Errors
    /// A configuration that does not resolve, or a listener that cannot be set up.
    pub async fn bind(
        config: Config,
        runtime_options: RuntimeOptions,
        options: ListenOptions,
    ) -> Result<Listeners, ServerError> {
        if options
            .listen
            .iter()
            .filter(|l| **l == Listen::Stdio)
            .count()
            > 1
        {
            return Err(ListenError::StdioTwice.into());
        }
        let codex_home = config.codex_home.clone();
        let mut listeners = Listeners {
            server: Arc::new(AppServer::new(config, runtime_options)?),
            stdio: options.listen.contains(&Listen::Stdio),
            stop: CancellationToken::new(),
            drained: CancellationToken::new(),
            connections: TaskTracker::new(),
            accepting: Vec::new(),
            sockets: Vec::new(),
            unix_paths: Vec::new(),
            ws_addrs: Vec::new(),
        };
        let token = if options.listen.iter().any(|l| matches!(l, Listen::Ws(_))) {
            let path = options
                .ws_token_file
                .clone()
                .unwrap_or_else(|| token_file_default(&codex_home));
            Some(Arc::new(WsToken::load_or_create(&path)?))
        } else {
            None
        };
        for listen in &options.listen {
            match listen {
                Listen::Stdio => {}
                Listen::Unix(path) => {
                    let path = path
                        .clone()
                        .unwrap_or_else(|| codex_home.join("app-server.sock"));
                    let bound = unix::bind(&path)?;
                    listeners.accepting.push(tokio::spawn(unix::accept_loop(
                        bound.listener,
                        listeners.server.clone(),
                        listeners.connections.clone(),
                        listeners.drained.clone(),
                    )));
                    listeners.sockets.push(bound.guard);
                    listeners.unix_paths.push(path);
                }
                Listen::Ws(addr) => {
                    let listener = tokio::net::TcpListener::bind(addr)
                        .await
                        .map_err(|e| ListenError::io(format!("binding ws://{addr}"), e))?;
                    let local = listener
                        .local_addr()
                        .map_err(|e| ListenError::io("reading the bound address", e))?;
                    if let Some(token) = token.clone() {
                        listeners.accepting.push(tokio::spawn(ws::accept_loop(
                            listener,
                            token,
                            listeners.server.clone(),
                            listeners.connections.clone(),
                            listeners.drained.clone(),
                        )));
                    }
                    listeners.ws_addrs.push(local);
                }
            }
        }
        Ok(listeners)
    }

    /// The addresses the WebSocket listeners are bound to (the real port for `:0`).
    pub fn ws_addrs(&self) -> &[SocketAddr] {
        &self.ws_addrs
    }

    pub fn unix_paths(&self) -> &[PathBuf] {
        &self.unix_paths
    }

    /// Serves (stdio too, when it is a listener) until stdin ends or `until` resolves; then
    /// stops reading requests, lets running turns end and report, flushes and closes every
    /// connection and removes the unix sockets.
    pub async fn run(self, until: impl std::future::Future<Output = ()>) {
        let Listeners {
            server,
            stdio,
            stop,
            drained,
            connections,
            accepting,
            sockets,
            ..
        } = self;
        if stdio {
            let (server, stop, drained) = (server.clone(), stop.clone(), drained.clone());
            connections.spawn(async move {
                let attached = server.serve(Connection::stdio(server.limits())).await;
                // The stdio client is the process's owner: its end is the server's end.
                stop.cancel();
                drained.cancelled().await;
                attached.close().await;
            });
        }
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = until => {}
        }
        for task in accepting {
            task.abort();
        }
        server.stop();
        server.runtime().shutdown().await;
        drained.cancel();
        connections.close();
        if tokio::time::timeout(STOP_WAIT, connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("connections still open {STOP_WAIT:?} after the stop; exiting anyway");
        }
        drop(sockets);
    }
}

/// Resolves on SIGINT or SIGTERM (never, when the handlers cannot be installed).
async fn signalled() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("cannot install signal handlers; stop the server by closing stdin");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_urls_parse_and_non_loopback_needs_the_flag() {
        assert_eq!(Listen::parse("stdio://", false).unwrap(), Listen::Stdio);
        assert_eq!(
            Listen::parse("unix:///tmp/x.sock", false).unwrap(),
            Listen::Unix(Some("/tmp/x.sock".into()))
        );
        assert_eq!(Listen::parse("unix://", false).unwrap(), Listen::Unix(None));
        assert_eq!(
            Listen::parse("ws://127.0.0.1:4222", false).unwrap(),
            Listen::Ws("127.0.0.1:4222".parse().unwrap())
        );
        assert_eq!(
            Listen::parse("ws://localhost:0", false).unwrap(),
            Listen::Ws("127.0.0.1:0".parse().unwrap())
        );
        assert_eq!(
            Listen::parse("ws://[::1]:9", false).unwrap(),
            Listen::Ws("[::1]:9".parse().unwrap())
        );
        assert!(matches!(
            Listen::parse("ws://0.0.0.0:4222", false),
            Err(ListenError::NotLoopback(_))
        ));
        assert_eq!(
            Listen::parse("ws://0.0.0.0:4222", true).unwrap(),
            Listen::Ws("0.0.0.0:4222".parse().unwrap())
        );
        for bad in [
            "http://x",
            "ws://host:1",
            "ws://127.0.0.1",
            "ws://127.0.0.1:x",
        ] {
            assert!(Listen::parse(bad, true).is_err(), "{bad}");
        }
    }
}
