//! Cursors of `thread/turns/list` and `thread/items/list`: opaque strings to clients, small
//! JSON objects to us. They name turns and items by id, not by position, so a cursor stays
//! right while turns are appended, and fails clearly once its turn was reverted.

use crate::error::CoreError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum PageCursor {
    /// A turn; the page starts just past it, or at it with `include_anchor`.
    #[serde(rename_all = "camelCase")]
    Turns {
        turn_id: String,
        include_anchor: bool,
    },
    /// An item of a turn; the page starts just past it, or at it with `include_anchor`.
    #[serde(rename_all = "camelCase")]
    Items {
        turn_id: String,
        item_id: String,
        include_anchor: bool,
    },
}

impl PageCursor {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// # Errors
    /// [`CoreError::InvalidRequest`] for a string we did not produce.
    pub fn decode(text: &str) -> Result<PageCursor, CoreError> {
        serde_json::from_str(text)
            .map_err(|_| CoreError::InvalidRequest(format!("invalid cursor: {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_strangers() {
        let c = PageCursor::Items {
            turn_id: "t".into(),
            item_id: "i".into(),
            include_anchor: true,
        };
        assert_eq!(PageCursor::decode(&c.encode()).unwrap(), c);
        let err = PageCursor::decode("garbage").unwrap_err();
        assert_eq!(err.to_string(), "invalid cursor: garbage");
    }
}
