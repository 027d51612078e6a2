//! Cheap looks into raw JSON text that the parser could not (or was not allowed to) read:
//! the request id near the start of a line, and how deeply a line nests. Used only on lines
//! that are rejected, so their error answer can carry the id and name the limit.

use codex_protocol::jsonrpc::RequestId;

/// Deepest nesting the decoder accepts (serde_json's own recursion limit).
pub const MAX_DEPTH: usize = 128;

/// The `id` member of the top-level object, if it appears (complete) in `text`. `text` may be
/// cut anywhere; anything unreadable gives `None`.
pub fn peek_id(text: &[u8]) -> Option<RequestId> {
    let mut s = Scanner { text, pos: 0 };
    s.skip_ws();
    if !s.eat(b'{') {
        return None;
    }
    loop {
        s.skip_ws();
        let key = s.string()?;
        s.skip_ws();
        if !s.eat(b':') {
            return None;
        }
        s.skip_ws();
        if key == "id" {
            return s.id_value();
        }
        s.skip_value()?;
        s.skip_ws();
        if !s.eat(b',') {
            return None;
        }
    }
}

/// The deepest nesting of arrays and objects in `text` (strings are skipped).
pub fn nesting_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos += 1;
        }
    }

    /// A complete string literal, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        self.skip_string()?;
        serde_json::from_slice(&self.text[start..self.pos]).ok()
    }

    fn skip_string(&mut self) -> Option<()> {
        if !self.eat(b'"') {
            return None;
        }
        let mut escaped = false;
        loop {
            let b = self.peek()?;
            self.pos += 1;
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => return Some(()),
                _ => {}
            }
        }
    }

    /// Skips one value; `None` when the text ends inside it.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.skip_string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.pos += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek()?,
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n'
                ) {
                    self.pos += 1;
                }
                Some(())
            }
        }
    }

    /// A string or integer id, complete (followed by a delimiter).
    fn id_value(&mut self) -> Option<RequestId> {
        let start = self.pos;
        self.skip_value()?;
        let raw = &self.text[start..self.pos];
        self.skip_ws();
        // A number cut by the end of the text might be longer than what we saw.
        if !matches!(self.peek()?, b',' | b'}') {
            return None;
        }
        serde_json::from_slice::<RequestId>(raw).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_the_start_of_a_line() {
        let id = |t: &str| peek_id(t.as_bytes());
        assert_eq!(id(r#"{"id":7,"method":"x"}"#), Some(RequestId::Integer(7)));
        assert_eq!(
            id(r#" { "method" : "x", "params": {"id": 1, "a": ["}"]}, "id" : "s\"1" , "#),
            Some(RequestId::String("s\"1".into()))
        );
        // Cut inside the id, or before it, or an id of the wrong type: unknown.
        assert_eq!(id(r#"{"id":12"#), None);
        assert_eq!(id(r#"{"method":"x","params":{"text":"aaa"#), None);
        assert_eq!(id(r#"{"id":{"a":1},"method":"x"}"#), None);
        assert_eq!(id(r#"[{"id":1}]"#), None);
    }

    #[test]
    fn depth_counts_brackets_outside_strings() {
        assert_eq!(nesting_depth(br#"{"a":[1,{"b":"[[[["}]}"#), 3);
        assert_eq!(nesting_depth(b"[[[]]]"), 3);
        assert_eq!(nesting_depth(br#""\"[""#), 0);
    }
}
