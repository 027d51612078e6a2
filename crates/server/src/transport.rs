//! Line framing. Input: one JSON object per line; a line longer than the limit is rejected
//! without buffering it whole. Output: one writer task owns stdout and flushes after each burst.

use crate::dispatch::Connection;
use crate::ServerError;
use codex_protocol::jsonrpc::JsonRpcErrorBody;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// Reads lines until EOF and hands each to the connection.
pub async fn read_loop(
    input: impl AsyncRead + Unpin,
    max_line: usize,
    mut conn: Connection,
) -> Result<(), ServerError> {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let mut line: Vec<u8> = Vec::new();
    loop {
        line.clear();
        match read_bounded_line(&mut reader, &mut line, max_line).await? {
            LineRead::Eof => break,
            LineRead::TooLong(len) => {
                tracing::warn!("rejected an input line of at least {len} bytes");
                conn.client()
                    .respond_error(
                        None,
                        JsonRpcErrorBody::invalid_request(format!(
                            "message too large: lines are limited to {max_line} bytes"
                        )),
                    )
                    .await;
            }
            LineRead::Line => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim();
                if !text.is_empty() {
                    conn.handle_line(text).await;
                }
            }
        }
    }
    conn.finish().await;
    Ok(())
}

enum LineRead {
    Line,
    TooLong(usize),
    Eof,
}

/// Reads one `\n`-terminated line into `buf`; past `max` bytes the rest of the line is
/// consumed and discarded instead of buffered.
async fn read_bounded_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<LineRead> {
    let mut discarded = 0usize;
    loop {
        let chunk = reader.fill_buf().await?;
        if chunk.is_empty() {
            return Ok(if discarded > 0 {
                LineRead::TooLong(discarded)
            } else if buf.is_empty() {
                LineRead::Eof
            } else {
                LineRead::Line
            });
        }
        let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if discarded > 0 || buf.len() + take > max + 1 {
            discarded += buf.len() + take;
            buf.clear();
        } else {
            buf.extend_from_slice(&chunk[..take]);
        }
        reader.consume(take);
        if done {
            return Ok(if discarded > 0 {
                LineRead::TooLong(discarded)
            } else {
                LineRead::Line
            });
        }
    }
}

/// Writes queued lines, flushing whenever the queue is momentarily empty.
pub async fn write_lines(mut out: impl AsyncWrite + Unpin, mut lines: mpsc::Receiver<String>) {
    while let Some(line) = lines.recv().await {
        if write_one(&mut out, &line).await.is_err() {
            return;
        }
        while let Ok(next) = lines.try_recv() {
            if write_one(&mut out, &next).await.is_err() {
                return;
            }
        }
        if out.flush().await.is_err() {
            return;
        }
    }
    let _ = out.flush().await;
}

async fn write_one(out: &mut (impl AsyncWrite + Unpin), line: &str) -> std::io::Result<()> {
    out.write_all(line.as_bytes()).await?;
    out.write_all(b"\n").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn overlong_lines_are_discarded_and_reading_resumes() {
        let data = format!("{}\n{{\"ok\":1}}\n", "x".repeat(5000));
        let mut reader = BufReader::with_capacity(64, data.as_bytes());
        let mut buf = Vec::new();
        assert!(matches!(
            read_bounded_line(&mut reader, &mut buf, 1024)
                .await
                .unwrap(),
            LineRead::TooLong(_)
        ));
        buf.clear();
        assert!(matches!(
            read_bounded_line(&mut reader, &mut buf, 1024)
                .await
                .unwrap(),
            LineRead::Line
        ));
        assert_eq!(buf, b"{\"ok\":1}\n");
        buf.clear();
        assert!(matches!(
            read_bounded_line(&mut reader, &mut buf, 1024)
                .await
                .unwrap(),
            LineRead::Eof
        ));
    }
}
