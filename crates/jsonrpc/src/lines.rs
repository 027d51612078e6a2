//! The NDJSON line reader. Lines are bounded: past the limit, the rest of the line is read and
//! discarded instead of buffered, so a client cannot make the server hold an arbitrarily large
//! line. The first bytes of a rejected line are kept, so the error answer can carry the
//! request's id when the line starts with it.

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

/// Bytes of an over-long line kept for reading its id.
pub const HEAD_KEPT: usize = 4096;

/// What one read produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A complete line (the newline stripped).
    Text(Vec<u8>),
    /// A line longer than the limit: its length and its first [`HEAD_KEPT`] bytes.
    TooLong { len: usize, head: Vec<u8> },
}

/// Reads `\n`-terminated lines of at most `max` bytes (newline excluded).
pub struct LineReader<R> {
    reader: BufReader<R>,
    max: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(input: R, max: usize) -> Self {
        LineReader {
            reader: BufReader::with_capacity(64 * 1024, input),
            max,
        }
    }

    /// The longest line accepted, in bytes.
    pub fn limit(&self) -> usize {
        self.max
    }

    /// The next line, or `None` at end of input. A last line without a newline counts.
    ///
    /// # Cancellation
    /// Not cancel-safe: a partly read line is lost if the future is dropped.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        let mut buf: Vec<u8> = Vec::new();
        // Set once the line went over the limit: from then on only the length is counted.
        let mut over: Option<(usize, Vec<u8>)> = None;
        loop {
            let chunk = self.reader.fill_buf().await?;
            if chunk.is_empty() {
                return Ok(match over {
                    Some((len, head)) => Some(Line::TooLong { len, head }),
                    None if buf.is_empty() => None,
                    None => Some(Line::Text(buf)),
                });
            }
            let (take, done) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let content = if done { &chunk[..take - 1] } else { chunk };
            match &mut over {
                Some((len, _)) => *len += content.len(),
                None if buf.len() + content.len() > self.max => {
                    let mut head = std::mem::take(&mut buf);
                    let len = head.len() + content.len();
                    let room = HEAD_KEPT.saturating_sub(head.len());
                    head.extend_from_slice(&content[..room.min(content.len())]);
                    head.truncate(HEAD_KEPT);
                    over = Some((len, head));
                }
                None => buf.extend_from_slice(content),
            }
            self.reader.consume(take);
            if done {
                return Ok(Some(match over {
                    Some((len, head)) => Line::TooLong { len, head },
                    None => Line::Text(buf),
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn over_long_lines_are_discarded_with_their_head_and_reading_resumes() {
        let long = format!("{{\"id\":5,\"x\":\"{}\"}}", "x".repeat(5000));
        let data = format!("{long}\n{{\"ok\":1}}\nlast");
        let mut r = LineReader::new(data.as_bytes(), 1024);
        let Some(Line::TooLong { len, head }) = r.next_line().await.unwrap() else {
            panic!("expected a rejected line");
        };
        assert_eq!(len, long.len());
        assert!(head.starts_with(b"{\"id\":5,"));
        assert_eq!(head.len(), HEAD_KEPT);
        assert_eq!(
            r.next_line().await.unwrap(),
            Some(Line::Text(b"{\"ok\":1}".to_vec()))
        );
        assert_eq!(
            r.next_line().await.unwrap(),
            Some(Line::Text(b"last".to_vec()))
        );
        assert_eq!(r.next_line().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_accepted() {
        let data = format!("{}\n{}\n", "a".repeat(16), "b".repeat(17));
        let mut r = LineReader::new(data.as_bytes(), 16);
        assert!(matches!(r.next_line().await.unwrap(), Some(Line::Text(t)) if t.len() == 16));
        assert!(matches!(
            r.next_line().await.unwrap(),
            Some(Line::TooLong { len: 17, .. })
        ));
    }
}
