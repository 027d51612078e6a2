//! JSON-RPC envelopes as this protocol frames them: one compact JSON object per line, the
//! `jsonrpc` member accepted but never required or sent, ids echoed with their JSON type.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A request id: the protocol allows strings and integers, and a reply must echo the same type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum RequestId {
    Integer(i64),
    String(String),
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestId::Integer(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// JSON-RPC error codes. Unlike the official runtime (which answers nearly everything with
/// -32600), each failure class gets its own code so clients can branch on it.
pub mod error_codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    pub const SERVER_OVERLOADED: i64 = -32001;
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JsonRpcErrorBody {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl JsonRpcErrorBody {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(error_codes::INVALID_REQUEST, message)
    }
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(error_codes::INVALID_PARAMS, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(error_codes::INTERNAL_ERROR, message)
    }
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            error_codes::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

/// Any line a peer may send. Classified by keys, as the protocol is untagged.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Request {
        id: RequestId,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    Response {
        id: RequestId,
        result: Value,
    },
    Error {
        id: Option<RequestId>,
        error: JsonRpcErrorBody,
    },
}

/// Why a line could not be classified as a message.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeError {
    /// Not JSON at all.
    Parse(String),
    /// JSON, but not a JSON-RPC message; carries the id when one could be read.
    Invalid {
        id: Option<RequestId>,
        reason: String,
    },
}

impl Message {
    /// Decodes one line. `params: null` is treated like a missing `params`.
    pub fn decode(line: &str) -> Result<Message, DecodeError> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| DecodeError::Parse(e.to_string()))?;
        let Value::Object(mut obj) = value else {
            return Err(DecodeError::Invalid {
                id: None,
                reason: "message must be a JSON object".into(),
            });
        };
        let id = match obj.remove("id") {
            None | Some(Value::Null) => None,
            Some(raw) => Some(serde_json::from_value::<RequestId>(raw).map_err(|_| {
                DecodeError::Invalid {
                    id: None,
                    reason: "id must be a string or an integer".into(),
                }
            })?),
        };
        let params = match obj.remove("params") {
            None | Some(Value::Null) => None,
            Some(p) => Some(p),
        };
        if let Some(method) = obj.remove("method") {
            let Value::String(method) = method else {
                return Err(DecodeError::Invalid {
                    id,
                    reason: "method must be a string".into(),
                });
            };
            return Ok(match id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            });
        }
        if let Some(error) = obj.remove("error") {
            let error = serde_json::from_value(error).map_err(|e| DecodeError::Invalid {
                id: id.clone(),
                reason: format!("malformed error object: {e}"),
            })?;
            return Ok(Message::Error { id, error });
        }
        match (id, obj.remove("result")) {
            (Some(id), Some(result)) => Ok(Message::Response { id, result }),
            (id, _) => Err(DecodeError::Invalid {
                id,
                reason: "message has neither method, result nor error".into(),
            }),
        }
    }

    /// Encodes the message as one compact line (without the trailing newline).
    pub fn encode(&self) -> String {
        let value = match self {
            Message::Request { id, method, params } => {
                let mut obj = serde_json::Map::new();
                obj.insert("id".into(), id_value(id));
                obj.insert("method".into(), Value::String(method.clone()));
                if let Some(p) = params {
                    obj.insert("params".into(), p.clone());
                }
                Value::Object(obj)
            }
            Message::Notification { method, params } => {
                let mut obj = serde_json::Map::new();
                obj.insert("method".into(), Value::String(method.clone()));
                if let Some(p) = params {
                    obj.insert("params".into(), p.clone());
                }
                Value::Object(obj)
            }
            Message::Response { id, result } => {
                serde_json::json!({"id": id_value(id), "result": result})
            }
            Message::Error { id, error } => {
                let id = id.as_ref().map(id_value).unwrap_or(Value::Null);
                serde_json::json!({"id": id, "error": error})
            }
        };
        value.to_string()
    }
}

fn id_value(id: &RequestId) -> Value {
    match id {
        RequestId::Integer(n) => Value::from(*n),
        RequestId::String(s) => Value::String(s.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_their_json_type() {
        let m = Message::decode(r#"{"id":"7","method":"x"}"#).unwrap();
        assert_eq!(
            m,
            Message::Request {
                id: RequestId::String("7".into()),
                method: "x".into(),
                params: None
            }
        );
        let reply = Message::Response {
            id: RequestId::Integer(7),
            result: serde_json::json!({}),
        };
        assert_eq!(reply.encode(), r#"{"id":7,"result":{}}"#);
    }

    #[test]
    fn jsonrpc_member_is_accepted_and_null_params_is_no_params() {
        let m = Message::decode(r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#).unwrap();
        assert_eq!(
            m,
            Message::Request {
                id: RequestId::Integer(1),
                method: "m".into(),
                params: None
            }
        );
    }

    #[test]
    fn garbage_is_a_parse_error_and_shapeless_json_is_invalid() {
        assert!(matches!(
            Message::decode("{nope"),
            Err(DecodeError::Parse(_))
        ));
        assert!(matches!(
            Message::decode(r#"{"id":3}"#),
            Err(DecodeError::Invalid {
                id: Some(RequestId::Integer(3)),
                ..
            })
        ));
        assert!(matches!(
            Message::decode("[1]"),
            Err(DecodeError::Invalid { id: None, .. })
        ));
    }
}
