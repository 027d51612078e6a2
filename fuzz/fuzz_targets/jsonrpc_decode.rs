//! The JSON-RPC line decoder: `codex_protocol::jsonrpc::Message::decode`, which the server runs
//! on every line the `codex-jsonrpc` reader frames, after a lossy UTF-8 conversion and a trim.
//!
//! Oracles: no panic on any line; a decoded message encodes to a single line that decodes back
//! to the same message, so what the server echoes (ids above all) is what it read. Numbers
//! with a fraction or exponent may move by one unit in the last place: serde_json's default
//! float parser is not correctly rounded (its `float_roundtrip` feature is off), which the first
//! long run found.

#![no_main]

use codex_protocol::jsonrpc::{Message, RequestId};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Equal, except that floats may differ by a relative 1e-15 (a few units in the last place).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((kx, vx), (ky, vy))| kx == ky && same(vx, vy))
        }
        _ => a == b,
    }
}

fn id_value(id: &RequestId) -> Value {
    match id {
        RequestId::Integer(n) => Value::from(*n),
        RequestId::String(s) => Value::String(s.clone()),
    }
}

/// The message as the JSON object it stands for, built without parsing anything.
fn value_of(message: &Message) -> Value {
    let mut obj = serde_json::Map::new();
    match message {
        Message::Request { id, method, params } => {
            obj.insert("id".into(), id_value(id));
            obj.insert("method".into(), Value::String(method.clone()));
            if let Some(p) = params {
                obj.insert("params".into(), p.clone());
            }
        }
        Message::Notification { method, params } => {
            obj.insert("method".into(), Value::String(method.clone()));
            if let Some(p) = params {
                obj.insert("params".into(), p.clone());
            }
        }
        Message::Response { id, result } => {
            obj.insert("id".into(), id_value(id));
            obj.insert("result".into(), result.clone());
        }
        Message::Error { id, error } => {
            obj.insert("id".into(), id.as_ref().map_or(Value::Null, id_value));
            obj.insert("error".into(), serde_json::to_value(error).expect("error body"));
        }
    }
    Value::Object(obj)
}

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
    let again = Message::decode(&encoded)
        .unwrap_or_else(|e| panic!("an encoded message does not decode: {e:?}: {encoded}"));
    let (before, after) = (value_of(&message), value_of(&again));
    assert!(
        same(&before, &after),
        "re-decoding {encoded} changed the message to {again:?}"
    );
    // Ids, methods and message kinds survive exactly.
    assert_eq!(
        std::mem::discriminant(&message),
        std::mem::discriminant(&again)
    );
    assert_eq!(before.get("id"), after.get("id"));
    assert_eq!(before.get("method"), after.get("method"));
});
