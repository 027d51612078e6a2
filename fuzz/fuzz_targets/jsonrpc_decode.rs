//! The JSON-RPC line decoder: `codex_protocol::jsonrpc::Message::decode`, which the server runs
//! on every stdin line after a lossy UTF-8 conversion and a trim. (The framing is moving to the
//! `codex-jsonrpc` crate; when it lands, point the import there.)
//!
//! Oracles: no panic on any line; a decoded message encodes to a single line that decodes back
//! to the same message, so what the server echoes (ids above all) is what it read.

#![no_main]

use codex_protocol::jsonrpc::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(message) = Message::decode(text.trim()) else {
        return;
    };
    let encoded = message.encode();
    assert!(
        !encoded.contains('\n'),
        "an encoded message spans lines: {encoded:?}"
    );
    assert_eq!(
        Message::decode(&encoded),
        Ok(message),
        "re-decoding {encoded} changed the message"
    );
});
