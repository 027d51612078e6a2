//! One encoded message, ready to be written as a line. Encoding happens once, straight from
//! the typed params to text (no intermediate `serde_json::Value`); the text is shared by
//! `Arc`, so fanning a notification out to several connections copies a pointer, not bytes.

use codex_protocol::jsonrpc::{JsonRpcErrorBody, Message, RequestId};
use serde::Serialize;
use std::sync::Arc;

/// A compact JSON-RPC message without its trailing newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame(Arc<str>);

impl Frame {
    /// `{"method":..,"params":..}`.
    pub fn notification(method: &str, params: &impl Serialize) -> Result<Frame, serde_json::Error> {
        let params = serde_json::to_string(params)?;
        Ok(Frame::notification_encoded(method, &params))
    }

    /// A notification whose params are already JSON text.
    pub fn notification_encoded(method: &str, params_json: &str) -> Frame {
        let mut out = String::with_capacity(params_json.len() + method.len() + 24);
        out.push_str("{\"method\":");
        push_str_literal(&mut out, method);
        out.push_str(",\"params\":");
        out.push_str(params_json);
        out.push('}');
        Frame(out.into())
    }

    /// `{"id":..,"method":..,"params":..}` with params already JSON text.
    pub fn request_encoded(id: &RequestId, method: &str, params_json: &str) -> Frame {
        let mut out = String::with_capacity(params_json.len() + method.len() + 40);
        out.push_str("{\"id\":");
        push_id(&mut out, Some(id));
        out.push_str(",\"method\":");
        push_str_literal(&mut out, method);
        out.push_str(",\"params\":");
        out.push_str(params_json);
        out.push('}');
        Frame(out.into())
    }

    /// `{"id":..,"result":..}`.
    pub fn response(id: &RequestId, result: &impl Serialize) -> Result<Frame, serde_json::Error> {
        let result = serde_json::to_string(result)?;
        let mut out = String::with_capacity(result.len() + 32);
        out.push_str("{\"id\":");
        push_id(&mut out, Some(id));
        out.push_str(",\"result\":");
        out.push_str(&result);
        out.push('}');
        Ok(Frame(out.into()))
    }

    /// `{"id":..,"error":{..}}`; `id` is `null` when the request's id could not be read.
    pub fn error(id: Option<&RequestId>, error: &JsonRpcErrorBody) -> Frame {
        // An error body is plain strings and numbers (and `data`, itself a `Value`): it always
        // encodes, so the fallback below only keeps this function total.
        let body = serde_json::to_string(error).unwrap_or_else(|_| {
            format!(
                "{{\"code\":{},\"message\":\"error body could not be encoded\"}}",
                error.code
            )
        });
        let mut out = String::with_capacity(body.len() + 32);
        out.push_str("{\"id\":");
        push_id(&mut out, id);
        out.push_str(",\"error\":");
        out.push_str(&body);
        out.push('}');
        Frame(out.into())
    }

    /// Any message, through its generic encoding.
    pub fn message(message: &Message) -> Frame {
        Frame(message.encode().into())
    }

    /// Not a message: queued by [`crate::Peer::close`] to wake a writer blocked on the queue.
    pub(crate) fn close_marker() -> Frame {
        Frame(Arc::from(""))
    }

    /// The line's text (no newline).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn push_id(out: &mut String, id: Option<&RequestId>) {
    match id {
        None => out.push_str("null"),
        Some(RequestId::Integer(n)) => out.push_str(&n.to_string()),
        Some(RequestId::String(s)) => push_str_literal(out, s),
    }
}

fn push_str_literal(out: &mut String, s: &str) {
    // Encoding a `&str` cannot fail.
    match serde_json::to_string(s) {
        Ok(lit) => out.push_str(&lit),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(f: &Frame) -> Value {
        serde_json::from_str(f.as_str()).unwrap()
    }

    #[test]
    fn frames_are_the_messages_they_claim_to_be() {
        let n = Frame::notification("item/started", &json!({"a": 1})).unwrap();
        assert_eq!(
            parse(&n),
            json!({"method": "item/started", "params": {"a": 1}})
        );
        let r = Frame::request_encoded(&RequestId::Integer(3), "x/y", "{\"q\":\"\\\"\"}");
        assert_eq!(
            parse(&r),
            json!({"id": 3, "method": "x/y", "params": {"q": "\""}})
        );
        let ok = Frame::response(&RequestId::String("a\"b".into()), &json!({})).unwrap();
        assert_eq!(parse(&ok), json!({"id": "a\"b", "result": {}}));
        let err = Frame::error(None, &JsonRpcErrorBody::invalid_request("no"));
        assert_eq!(
            parse(&err),
            json!({"id": null, "error": {"code": -32600, "message": "no"}})
        );
        for f in [&n, &r, &ok, &err] {
            assert!(!f.as_str().contains('\n'));
        }
    }
}
