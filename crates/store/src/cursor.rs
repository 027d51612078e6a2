//! Opaque keyset cursors for `list`: base64url of `"<sort key tag>|<sort value>|<thread id>"`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::StoreError;
use crate::types::SortKey;

/// Position strictly after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub value: i64,
    pub id: String,
}

fn tag(key: SortKey) -> &'static str {
    match key {
        SortKey::CreatedAt => "c",
        SortKey::UpdatedAt => "u",
    }
}

pub(crate) fn encode(key: SortKey, value: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{value}|{id}", tag(key)))
}

/// Decodes a cursor; a cursor made for another sort key is rejected because its value
/// would be compared against the wrong column.
pub(crate) fn decode(key: SortKey, cursor: &str) -> Result<Cursor, StoreError> {
    let invalid = || StoreError::InvalidCursor(cursor.to_string());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '|');
    let (Some(t), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    if t != tag(key) || id.is_empty() {
        return Err(invalid());
    }
    let value = value.parse::<i64>().map_err(|_| invalid())?;
    Ok(Cursor {
        value,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let c = encode(SortKey::UpdatedAt, -5, "a|b");
        assert_eq!(
            decode(SortKey::UpdatedAt, &c).unwrap(),
            Cursor {
                value: -5,
                id: "a|b".into()
            }
        );
        assert!(decode(SortKey::CreatedAt, &c).is_err());
        assert!(decode(SortKey::CreatedAt, "!!").is_err());
        assert!(decode(SortKey::CreatedAt, &URL_SAFE_NO_PAD.encode("c|x|id")).is_err());
    }
}
