//! Server notifications as the SDK hands them out: typed when the method is in the protocol's
//! table and its params decode, raw otherwise, so a newer server (or one with extensions)
//! never breaks a stream. Also the routing key of a notification, read from the raw params.

use codex_protocol::methods::typed::ServerNotification;
use codex_protocol::methods::{
    Notification as _, TurnCompleted, TurnStarted, SERVER_NOTIFICATIONS,
};
use serde_json::Value;

/// One notification from the server.
// Boxing the typed payload would add an allocation per notification for nothing: a value lives
// from decode to its consumer, and the protocol's enum is large itself.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Notification {
    /// A notification of the protocol's table whose params decoded.
    Known(ServerNotification),
    /// Any other notification, or a known one whose params did not decode.
    Unknown(UnknownNotification),
}

/// A notification the SDK could not type.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownNotification {
    /// The wire method name.
    pub method: String,
    /// The params as sent.
    pub params: Option<Value>,
    /// Why a known method's params did not decode; `None` for a method outside the table.
    pub decode_error: Option<String>,
}

impl Notification {
    /// The wire method name.
    pub fn method(&self) -> &str {
        match self {
            Notification::Known(n) => n.method(),
            Notification::Unknown(n) => &n.method,
        }
    }

    /// The typed notification, if it is one.
    pub fn known(&self) -> Option<&ServerNotification> {
        match self {
            Notification::Known(n) => Some(n),
            Notification::Unknown(_) => None,
        }
    }

    /// Decodes a notification from the wire.
    pub(crate) fn decode(method: String, params: Option<Value>) -> Notification {
        if !SERVER_NOTIFICATIONS.iter().any(|row| row.name == method) {
            return Notification::Unknown(UnknownNotification {
                method,
                params,
                decode_error: None,
            });
        }
        let first = match ServerNotification::decode(&method, params.clone()) {
            Ok(n) => return Notification::Known(n),
            Err(e) => e.to_string(),
        };
        // The SDK never reads `turn.items` of turn/started and turn/completed (a turn's items
        // come from item/completed), so an item type this build does not know must not cost
        // the turn its start or its end: decode again without them.
        if method == TurnStarted::NAME || method == TurnCompleted::NAME {
            let mut stripped = params.clone();
            if let Some(items) = stripped
                .as_mut()
                .and_then(|p| p.get_mut("turn"))
                .and_then(|t| t.get_mut("items"))
            {
                *items = Value::Array(Vec::new());
            }
            if let Ok(n) = ServerNotification::decode(&method, stripped) {
                return Notification::Known(n);
            }
        }
        Notification::Unknown(UnknownNotification {
            method,
            params,
            decode_error: Some(first),
        })
    }
}

/// The turn a notification belongs to: `params.turnId`, else `params.turn.id`.
pub(crate) fn turn_id_of(params: Option<&Value>) -> Option<&str> {
    let params = params?;
    if let Some(id) = params.get("turnId").and_then(Value::as_str) {
        return Some(id);
    }
    params.get("turn")?.get("id")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn turn(items: Value) -> Value {
        json!({"threadId": "t", "turn": {"id": "u", "items": items, "status": "completed",
               "error": null, "startedAt": 1, "completedAt": 2, "durationMs": 1000}})
    }

    #[test]
    fn known_methods_decode_and_others_stay_raw() {
        let n = Notification::decode(
            "item/agentMessage/delta".into(),
            Some(json!({"threadId": "t", "turnId": "u", "itemId": "i", "delta": "x"})),
        );
        assert!(matches!(
            n.known(),
            Some(ServerNotification::AgentMessageDelta(_))
        ));
        let other = Notification::decode("remoteControl/status/changed".into(), None);
        assert_eq!(other.method(), "remoteControl/status/changed");
        assert!(matches!(
            other,
            Notification::Unknown(UnknownNotification {
                decode_error: None,
                ..
            })
        ));
        let bad = Notification::decode("item/agentMessage/delta".into(), Some(json!({})));
        assert!(matches!(
            bad,
            Notification::Unknown(UnknownNotification {
                decode_error: Some(_),
                ..
            })
        ));
    }

    #[test]
    fn turn_completed_with_an_unknown_item_type_still_decodes() {
        let params = turn(json!([{"type": "fromTheFuture", "id": "x"}]));
        let n = Notification::decode("turn/completed".into(), Some(params));
        let Some(ServerNotification::TurnCompleted(done)) = n.known() else {
            panic!("{n:?}");
        };
        assert_eq!(done.turn.id, "u");
        assert!(done.turn.items.is_empty());
    }

    #[test]
    fn routing_key_is_turn_id_or_turn_dot_id() {
        assert_eq!(turn_id_of(Some(&json!({"turnId": "a"}))), Some("a"));
        assert_eq!(turn_id_of(Some(&turn(json!([])))), Some("u"));
        assert_eq!(turn_id_of(Some(&json!({"threadId": "t"}))), None);
        assert_eq!(turn_id_of(None), None);
    }
}
