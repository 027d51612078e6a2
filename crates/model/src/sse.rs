//! Incremental Server-Sent Events parser. Bytes arrive in arbitrary chunks (a chunk may end in
//! the middle of a line, of a CRLF pair, or of a UTF-8 sequence); complete frames come out.
//! Lines are decoded only once complete, so split UTF-8 sequences are reassembled for free.

/// One dispatched event: the `event:` name (if any) and the `data:` lines joined with `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseFrame {
    pub event: Option<String>,
    pub data: String,
}

/// Largest event accepted (its unterminated line plus the data gathered so far). A server that
/// never ends a line or an event would otherwise grow the buffer without bound; past this the
/// stream is refused (see [`SseParser::too_large`]). Real events, even a `response.completed`
/// carrying the whole output, are far smaller.
pub const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// Parser state across chunks.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Set once an event outgrew [`MAX_EVENT_BYTES`]; the parser then drops what it held.
    too_large: bool,
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`; a leading `\n` now belongs to that line break.
    after_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes and returns the frames completed by them.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Vec<SseFrame> {
        let mut frames = Vec::new();
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
        }
        while let Some(pos) = bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&bytes[..pos]);
            let terminator = bytes[pos];
            bytes = &bytes[pos + 1..];
            if terminator == b'\r' {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(frame) = self.process_line(&line) {
                frames.push(frame);
            }
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() + self.data.len() > MAX_EVENT_BYTES {
            self.too_large = true;
            self.line = Vec::new();
            self.data = String::new();
        }
        frames
    }

    /// Whether an event outgrew [`MAX_EVENT_BYTES`]: the stream must be abandoned.
    pub fn too_large(&self) -> bool {
        self.too_large
    }

    /// Ends the stream: a final event without its blank line is still delivered (lenient,
    /// some servers close right after the last `data:` line).
    pub fn finish(&mut self) -> Option<SseFrame> {
        let line = std::mem::take(&mut self.line);
        let mut frame = None;
        if !line.is_empty() {
            frame = self.process_line(&line);
        }
        frame.or_else(|| self.dispatch())
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseFrame> {
        if line.is_empty() {
            return self.dispatch();
        }
        if line[0] == b':' {
            return None; // comment / keep-alive
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // `id` and `retry` matter only for EventSource reconnection, which we do not use.
            _ => {}
        }
        None
    }

    fn dispatch(&mut self) -> Option<SseFrame> {
        let event = self.event.take();
        if !self.has_data {
            return None;
        }
        self.has_data = false;
        Some(SseFrame {
            event: event.filter(|e| !e.is_empty()),
            data: std::mem::take(&mut self.data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_chunks(input: &[u8], sizes: &[usize]) -> Vec<SseFrame> {
        let mut parser = SseParser::new();
        let mut frames = Vec::new();
        let mut rest = input;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            frames.extend(parser.feed(&rest[..n]));
            rest = &rest[n..];
            i += 1;
        }
        frames.extend(parser.finish());
        frames
    }

    fn frame(event: Option<&str>, data: &str) -> SseFrame {
        SseFrame {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    const SAMPLE: &str = ": keep-alive comment\r\n\
        event: response.created\r\n\
        data: {\"type\":\"response.created\"}\r\n\
        \r\n\
        event: response.output_text.delta\n\
        data: {\"delta\":\"héllo ✓ 🎉\"}\n\
        \n\
        data: line one\r\
        data:line two\r\
        \r\
        event: ignored-without-data\n\
        \n\
        id: 7\n\
        retry: 100\n\
        data: {\"type\":\"response.completed\"}\n\n";

    fn expected() -> Vec<SseFrame> {
        vec![
            frame(Some("response.created"), "{\"type\":\"response.created\"}"),
            frame(
                Some("response.output_text.delta"),
                "{\"delta\":\"héllo ✓ 🎉\"}",
            ),
            frame(None, "line one\nline two"),
            frame(None, "{\"type\":\"response.completed\"}"),
        ]
    }

    #[test]
    fn whole_input_at_once() {
        assert_eq!(
            parse_in_chunks(SAMPLE.as_bytes(), &[usize::MAX]),
            expected()
        );
    }

    #[test]
    fn every_chunk_size_gives_the_same_frames() {
        // Sizes 1..=13 split CRLF pairs, field names and multi-byte UTF-8 sequences.
        for size in 1..=13 {
            assert_eq!(
                parse_in_chunks(SAMPLE.as_bytes(), &[size]),
                expected(),
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn irregular_chunking() {
        assert_eq!(
            parse_in_chunks(SAMPLE.as_bytes(), &[3, 1, 7, 2, 11, 5]),
            expected()
        );
        assert_eq!(
            parse_in_chunks(SAMPLE.as_bytes(), &[2, 9, 1, 1, 4]),
            expected()
        );
    }

    #[test]
    fn utf8_split_inside_a_sequence() {
        let input = "data: 🎉\n\n".as_bytes();
        let mut parser = SseParser::new();
        // The emoji's 4 bytes start at offset 6; cut after its second byte.
        assert!(parser.feed(&input[..8]).is_empty());
        assert_eq!(parser.feed(&input[8..]), vec![frame(None, "🎉")]);
    }

    #[test]
    fn final_event_without_blank_line_is_delivered() {
        assert_eq!(
            parse_in_chunks(b"event: x\ndata: tail", &[4]),
            vec![frame(Some("x"), "tail")]
        );
    }

    #[test]
    fn empty_data_line_is_an_event_with_empty_data() {
        assert_eq!(parse_in_chunks(b"data\n\n", &[1]), vec![frame(None, "")]);
    }

    #[test]
    fn an_endless_line_is_refused_instead_of_buffered() {
        let mut parser = SseParser::new();
        let chunk = vec![b'x'; 1024 * 1024];
        for _ in 0..(MAX_EVENT_BYTES / chunk.len()) {
            assert!(parser.feed(&chunk).is_empty());
            assert!(!parser.too_large());
        }
        assert!(parser.feed(&chunk).is_empty());
        assert!(parser.too_large());
        assert!(
            parser.line.capacity() < chunk.len(),
            "the buffer was not released"
        );
    }
}
