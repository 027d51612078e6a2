//! The WebSocket listener: one JSON-RPC message per text frame. The HTTP upgrade is refused
//! (401, before any JSON-RPC) unless it carries `Authorization: Bearer <token>`; the upgrade
//! must complete within [`HANDSHAKE_WAIT`].
//!
//! Each connection has a reader task (frames to [`FramedInput`]) and a writer task (the
//! [`Outbox`] to frames). Reads are bounded: the writer pings an idle client every
//! [`PING_EVERY`] and the reader drops a client silent for [`SILENCE_LIMIT`] (pongs count). A
//! client dropped for not keeping up gets the reason as a last text frame, then a close frame
//! (1008, policy).

use super::serving::serve_connection;
use super::token::WsToken;
use crate::AppServer;
use codex_jsonrpc::{framed, Connection, FramedInput, Outbox};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest time from TCP connect to a completed upgrade.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);
/// An idle connection is pinged this often.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A client that sends nothing (not even a pong) for this long is dropped.
const SILENCE_LIMIT: Duration = Duration::from_secs(90);

type Ws = WebSocketStream<TcpStream>;

/// Accepts connections until aborted; each is served in a task of `connections`.
#[allow(clippy::result_large_err)] // the token check's error type is the library's contract
pub async fn accept_loop(
    listener: TcpListener,
    token: Arc<WsToken>,
    server: Arc<AppServer>,
    connections: TaskTracker,
    drained: CancellationToken,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("accepting a ws connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (token, server, drained) = (token.clone(), server.clone(), drained.clone());
        connections.spawn(async move {
            let config = WebSocketConfig::default()
                .max_message_size(Some(server.limits().max_line_bytes))
                .max_frame_size(Some(server.limits().max_line_bytes));
            let check =
                move |request: &Request, response: Response| authorize(&token, request, response);
            let upgrade =
                tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(config));
            let ws = match tokio::time::timeout(HANDSHAKE_WAIT, upgrade).await {
                Ok(Ok(ws)) => ws,
                Ok(Err(e)) => {
                    tracing::info!("ws connection refused: {e}");
                    return;
                }
                Err(_) => {
                    tracing::info!("ws connection dropped: no upgrade within {HANDSHAKE_WAIT:?}");
                    return;
                }
            };
            let connection = websocket_connection(ws, server.limits());
            serve_connection(server, connection, drained).await;
        });
    }
}

/// The upgrade goes on only with the token. (The error type is the library's callback
/// contract, not ours to shrink.)
#[allow(clippy::result_large_err)]
fn authorize(
    token: &WsToken,
    request: &Request,
    response: Response,
) -> Result<Response, ErrorResponse> {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if token.accepts(presented) {
        return Ok(response);
    }
    let mut refusal = ErrorResponse::new(Some(
        "a valid token is required: Authorization: Bearer <token>\n".to_string(),
    ));
    *refusal.status_mut() = StatusCode::UNAUTHORIZED;
    refusal.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    Err(refusal)
}

/// A JSON-RPC connection over an upgraded WebSocket.
pub fn websocket_connection(ws: Ws, limits: codex_jsonrpc::Limits) -> Connection {
    let (peer, incoming, input, outbox) = framed(limits);
    let (sink, stream) = ws.split();
    let reader = tokio::spawn(read_frames(stream, input));
    let writer = tokio::spawn(write_frames(sink, outbox));
    Connection::from_tasks(peer, incoming, reader, writer)
}

async fn read_frames(mut stream: SplitStream<Ws>, input: FramedInput) {
    loop {
        let message = match tokio::time::timeout(SILENCE_LIMIT, stream.next()).await {
            Err(_) => {
                tracing::info!("ws client silent for {SILENCE_LIMIT:?}; dropping it");
                return;
            }
            Ok(None) => return,
            Ok(Some(Err(e))) => {
                tracing::info!("ws read failed: {e}");
                return;
            }
            Ok(Some(Ok(message))) => message,
        };
        let keep_going = match message {
            Message::Text(text) => input.text(text.as_str()).await,
            Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                Ok(text) => input.text(text).await,
                Err(_) => input.text("\u{fffd}").await,
            },
            Message::Close(_) => return,
            // Pings are answered by the library; pongs only prove the client is there.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => true,
        };
        if !keep_going {
            return;
        }
    }
}

async fn write_frames(mut sink: SplitSink<Ws, Message>, mut outbox: Outbox) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    'writing: loop {
        let frame = tokio::select! {
            biased;
            frame = outbox.next() => frame,
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break 'writing;
                }
                continue;
            }
        };
        let Some(frame) = frame else { break };
        let mut burst = Some(frame);
        while let Some(frame) = burst {
            if outbox.last_words().is_some() {
                break 'writing;
            }
            if !frame.is_empty()
                && sink
                    .feed(Message::text(frame.as_str().to_owned()))
                    .await
                    .is_err()
            {
                outbox.closed.cancel();
                return;
            }
            burst = outbox.frames.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            outbox.closed.cancel();
            return;
        }
    }
    let close = match outbox.last_words() {
        Some(words) => {
            let _ = sink.feed(Message::text(words.as_str().to_owned())).await;
            CloseFrame {
                code: CloseCode::Policy,
                reason: "client too slow: outgoing queue overflowed".into(),
            }
        }
        None => CloseFrame {
            code: CloseCode::Normal,
            reason: "server closing".into(),
        },
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = sink.close().await;
    outbox.closed.cancel();
}
