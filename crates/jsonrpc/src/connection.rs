//! A connection: a byte stream split into a reader task and a writer task, with a [`Peer`] to
//! send on and a bounded stream of [`Incoming`] requests and notifications to handle.
//!
//! The reader routes answers to our own requests straight to the [`Peer`] and answers lines it
//! cannot use itself: unparsable JSON (-32700, id null), JSON that is not a message (-32600),
//! a line over the length limit or nested deeper than the parser allows (-32600 naming the
//! limit, with the request id when it can be read from the start of the line).

use crate::frame::Frame;
use crate::inspect::{self, MAX_DEPTH};
use crate::lines::{Line, LineReader};
use crate::peer::Peer;
use crate::writer;
use codex_protocol::jsonrpc::{error_codes, DecodeError, JsonRpcErrorBody, Message, RequestId};
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bounds of one connection.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Longest accepted input line in bytes (newline excluded).
    pub max_line_bytes: usize,
    /// Frames queued for writing before senders wait.
    pub outgoing_queue: usize,
    /// Requests and notifications read ahead of their handling before reading waits.
    pub incoming_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: 16 * 1024 * 1024,
            outgoing_queue: 1024,
            incoming_queue: 64,
        }
    }
}

/// A request or notification from the other side.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming {
    Request {
        id: RequestId,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
}

/// One running connection.
pub struct Connection {
    /// Sends on this connection; clone it freely.
    pub peer: Peer,
    /// What the other side sends us, in order; ends when its input ends. It must be drained:
    /// the reader waits while it is full, and answers to our own requests are read by the
    /// same reader.
    pub incoming: mpsc::Receiver<Incoming>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Connection {
    /// Starts the reader and writer tasks over `input` and `output`.
    pub fn spawn<R, W>(input: R, output: W, limits: Limits) -> Connection
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let (peer, outbox) = Peer::new(limits.outgoing_queue);
        let (tx, incoming) = mpsc::channel(limits.incoming_queue.max(1));
        let writer = tokio::spawn(writer::run(output, outbox));
        let reader = tokio::spawn(read_loop(
            LineReader::new(input, limits.max_line_bytes),
            peer.clone(),
            tx,
        ));
        Connection {
            peer,
            incoming,
            reader,
            writer,
        }
    }

    /// Over this process's stdin and stdout. The writer is a thread of its own writing
    /// stdout directly (buffered, flushed after each burst).
    pub fn stdio(limits: Limits) -> Connection {
        let (peer, outbox) = Peer::new(limits.outgoing_queue);
        let (tx, incoming) = mpsc::channel(limits.incoming_queue.max(1));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("stdout-writer".into())
            .spawn(move || {
                let stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
                writer::run_blocking(stdout, outbox);
                let _ = done_tx.send(());
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start the stdout writer: {e}");
        }
        let writer = tokio::spawn(async move {
            let _ = done_rx.await;
        });
        let reader = tokio::spawn(read_loop(
            LineReader::new(tokio::io::stdin(), limits.max_line_bytes),
            peer.clone(),
            tx,
        ));
        Connection {
            peer,
            incoming,
            reader,
            writer,
        }
    }

    /// A connection whose reader and writer tasks the caller started: a message-framed
    /// transport (a WebSocket) built on [`crate::framed`].
    pub fn from_tasks(
        peer: Peer,
        incoming: mpsc::Receiver<Incoming>,
        reader: JoinHandle<()>,
        writer: JoinHandle<()>,
    ) -> Connection {
        Connection {
            peer,
            incoming,
            reader,
            writer,
        }
    }

    /// Over one bidirectional byte stream (a unix socket, an in-memory pipe).
    pub fn stream<S>(stream: S, limits: Limits) -> Connection
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (input, output) = tokio::io::split(stream);
        Connection::spawn(input, output, limits)
    }

    /// Closes the connection for sending and waits, at most `within`, until everything queued
    /// before is written and flushed. Reading stops too.
    pub async fn close(self, within: Duration) {
        close_parts(self.peer, self.reader, self.writer, within).await;
    }

    /// Splits off the receiving side, keeping what [`Closing::close`] needs.
    pub fn into_parts(self) -> (Peer, mpsc::Receiver<Incoming>, Closing) {
        let closing = Closing {
            peer: self.peer.clone(),
            reader: self.reader,
            writer: self.writer,
        };
        (self.peer, self.incoming, closing)
    }
}

/// The tasks of a connection whose parts were taken apart.
pub struct Closing {
    peer: Peer,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Closing {
    /// As [`Connection::close`].
    pub async fn close(self, within: Duration) {
        close_parts(self.peer, self.reader, self.writer, within).await;
    }
}

async fn close_parts(
    peer: Peer,
    reader: JoinHandle<()>,
    mut writer: JoinHandle<()>,
    within: Duration,
) {
    peer.close();
    reader.abort();
    if tokio::time::timeout(within, &mut writer).await.is_err() {
        // A peer that stopped reading keeps the writer blocked: drop the stream with it.
        tracing::warn!("output not flushed within {within:?}; closing anyway");
        writer.abort();
    }
}

/// A pair of connected in-memory byte streams: what one side writes, the other reads. Each
/// end goes to [`Connection::stream`].
pub type MemoryStream = DuplexStream;

/// Two ends of an in-memory byte pipe, for a server and a client in one process (tests,
/// `codex exec`, an embedded SDK). Bytes go through the same framing as over stdio.
pub fn memory_pair() -> (MemoryStream, MemoryStream) {
    tokio::io::duplex(256 * 1024)
}

async fn read_loop<R: AsyncRead + Unpin>(
    mut lines: LineReader<R>,
    peer: Peer,
    incoming: mpsc::Sender<Incoming>,
) {
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!("reading input failed: {e}");
                break;
            }
        };
        let text = match line {
            Line::TooLong { len, head } => {
                let limit = lines.limit();
                tracing::warn!("rejected an input line of {len} bytes (limit {limit})");
                let error = JsonRpcErrorBody::invalid_request(format!(
                    "message too large: lines are limited to {limit} bytes"
                ));
                if peer
                    .respond_error(inspect::peek_id(&head), error)
                    .await
                    .is_err()
                {
                    break;
                }
                continue;
            }
            Line::Text(bytes) => bytes,
        };
        let text = String::from_utf8_lossy(&text);
        if !accept_text(text.trim(), &peer, &incoming).await {
            break;
        }
    }
}

/// Handles one received message: requests and notifications go to `incoming`, answers to
/// our own requests to the [`Peer`], and what cannot be used is answered on the spot. False
/// once the connection is closed.
pub(crate) async fn accept_text(
    text: &str,
    peer: &Peer,
    incoming: &mpsc::Sender<Incoming>,
) -> bool {
    if text.is_empty() {
        return true;
    }
    let answer = match Message::decode(text) {
        Ok(Message::Request { id, method, params }) => {
            if incoming
                .send(Incoming::Request { id, method, params })
                .await
                .is_err()
            {
                tracing::debug!("request dropped: nobody handles incoming messages");
            }
            return true;
        }
        Ok(Message::Notification { method, params }) => {
            if incoming
                .send(Incoming::Notification { method, params })
                .await
                .is_err()
            {
                tracing::debug!("a notification was dropped: nobody handles incoming messages");
            }
            return true;
        }
        Ok(Message::Response { id, result }) => {
            if !peer.resolve(&id, Ok(result)) {
                tracing::warn!("reply to unknown request {id}");
            }
            return true;
        }
        Ok(Message::Error {
            id: Some(id),
            error,
        }) => {
            if !peer.resolve(&id, Err(error)) {
                tracing::warn!("error reply to unknown request {id}");
            }
            return true;
        }
        Ok(Message::Error { id: None, error }) => {
            tracing::warn!("peer reported an error: {}", error.message);
            return true;
        }
        Err(DecodeError::Parse(reason)) => {
            if inspect::nesting_depth(text.as_bytes()) > MAX_DEPTH {
                tracing::warn!("rejected an input line nested deeper than {MAX_DEPTH}");
                Frame::error(
                    inspect::peek_id(text.as_bytes()).as_ref(),
                    &JsonRpcErrorBody::invalid_request(format!(
                        "message nested too deeply: JSON nesting is limited to {MAX_DEPTH} levels"
                    )),
                )
            } else {
                tracing::warn!("unparsable input line: {reason}");
                Frame::error(
                    None,
                    &JsonRpcErrorBody::new(
                        error_codes::PARSE_ERROR,
                        format!("parse error: {reason}"),
                    ),
                )
            }
        }
        Err(DecodeError::Invalid { id, reason }) => Frame::error(
            id.as_ref(),
            &JsonRpcErrorBody::invalid_request(format!("invalid request: {reason}")),
        ),
    };
    peer.send(answer).await.is_ok()
}
