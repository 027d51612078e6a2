//! The incremental SSE parser of the model client (`codex_model::sse::SseParser`).
//!
//! Oracles: no panic; the frames do not depend on how the body is cut into chunks (the first
//! input byte seeds the chunk sizes, empty chunks included), because the network cuts bodies
//! anywhere: inside a line, between `\r` and `\n`, inside a UTF-8 sequence. Frame fields never
//! carry a line break.

#![no_main]

use codex_model::sse::{SseFrame, SseParser};
use libfuzzer_sys::fuzz_target;

fn all_at_once(stream: &[u8]) -> Vec<SseFrame> {
    let mut parser = SseParser::new();
    let mut frames = parser.feed(stream);
    frames.extend(parser.finish());
    frames
}

fn in_chunks(stream: &[u8], seed: u8) -> Vec<SseFrame> {
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    let mut rest = stream;
    let mut step = usize::from(seed);
    while !rest.is_empty() {
        // Sizes 0..=16: 0 feeds an empty chunk, which must change nothing.
        let n = (step % 17).min(rest.len());
        frames.extend(parser.feed(&rest[..n]));
        rest = &rest[n..];
        step = step.wrapping_mul(31).wrapping_add(7);
    }
    frames.extend(parser.finish());
    frames
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let expected = all_at_once(stream);
    for frame in &expected {
        assert!(!frame.data.contains('\r'), "data carries a CR: {frame:?}");
        let name = frame.event.as_deref().unwrap_or_default();
        assert!(!name.contains(['\r', '\n']), "event name spans lines: {frame:?}");
    }
    assert_eq!(in_chunks(stream, seed), expected, "chunking changed the frames");
});
