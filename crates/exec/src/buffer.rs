//! Bounded capture buffer keeping the head and the tail of a byte stream.
//!
//! Commands can print gigabytes; memory use must not follow. The beginning
//! (what ran) and the end (how it finished) are the useful parts, so the
//! middle is dropped and replaced by a marker saying how much was lost.

use std::collections::VecDeque;

pub(crate) struct HeadTailBuffer {
    head_cap: usize,
    tail_cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl HeadTailBuffer {
    pub(crate) fn new(cap: usize) -> Self {
        let head_cap = cap / 2;
        Self {
            head_cap,
            tail_cap: cap - head_cap,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    pub(crate) fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = self.head_cap.saturating_sub(self.head.len());
        let take = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..take]);
        bytes = &bytes[take..];
        if bytes.len() >= self.tail_cap {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_cap..]);
            return;
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(self.tail_cap);
        self.tail.drain(..overflow);
        self.tail.extend(bytes);
    }

    /// Bytes dropped from the middle so far: non-zero once the cap was hit.
    pub(crate) fn omitted(&self) -> u64 {
        self.total - self.head.len() as u64 - self.tail.len() as u64
    }

    /// Bytes pushed since creation (or the last [`Self::take`]).
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Bytes held in memory (at most the cap).
    pub(crate) fn held(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// Everything held, with a marker line where the middle was dropped, and
    /// whether anything was dropped; the buffer starts over empty.
    pub(crate) fn take(&mut self) -> (Vec<u8>, bool) {
        let omitted = self.omitted();
        let mut bytes = std::mem::take(&mut self.head);
        if omitted > 0 {
            bytes.extend_from_slice(format!("\n[... {omitted} bytes omitted ...]\n").as_bytes());
        }
        bytes.extend(self.tail.drain(..));
        self.total = 0;
        (bytes, omitted > 0)
    }

    /// The captured text; a marker line stands in for any dropped middle.
    pub(crate) fn to_text(&self) -> String {
        let mut bytes = self.head.clone();
        if self.omitted() > 0 {
            bytes.extend_from_slice(
                format!("\n[... {} bytes omitted ...]\n", self.omitted()).as_bytes(),
            );
        }
        bytes.extend(self.tail.iter());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_everything_under_cap() {
        let mut b = HeadTailBuffer::new(10);
        b.push(b"abc");
        b.push(b"def");
        assert_eq!(b.to_text(), "abcdef");
    }

    #[test]
    fn keeps_head_and_tail_over_cap() {
        let mut b = HeadTailBuffer::new(6);
        for chunk in [&b"0123"[..], b"4567", b"89"] {
            b.push(chunk);
        }
        assert_eq!(b.to_text(), "012\n[... 4 bytes omitted ...]\n789");
        let mut b = HeadTailBuffer::new(4);
        b.push(b"abcdefghij");
        assert_eq!(b.to_text(), "ab\n[... 6 bytes omitted ...]\nij");
    }

    #[test]
    fn take_empties_and_reports_the_cap() {
        let mut b = HeadTailBuffer::new(4);
        b.push(b"abc");
        assert_eq!(b.take(), (b"abc".to_vec(), false));
        assert_eq!(b.held(), 0);
        b.push(b"0123456789");
        assert_eq!(b.held(), 4);
        let (bytes, capped) = b.take();
        assert!(capped);
        assert_eq!(bytes, b"01\n[... 6 bytes omitted ...]\n89");
        b.push(b"x");
        assert_eq!(b.take(), (b"x".to_vec(), false));
    }
}
