//! Opaque keyset cursors for `list`: base64url of `"<tag>|<sort value>|<thread id>"`, where
//! `<tag>` is the sort key's letter, optionally followed by `~<as_of>` (the index's write
//! sequence when the listing began; see `index::list`). Cursors without `as_of` (made by
//! older versions) stay valid and simply page without that restriction.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::StoreError;
use crate::types::SortKey;

/// Position strictly after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub value: i64,
    pub id: String,
    /// Write sequence at the first page; rows written later are left out of later pages.
    pub as_of: Option<i64>,
}

fn tag(key: SortKey) -> &'static str {
    match key {
        SortKey::CreatedAt => "c",
        SortKey::UpdatedAt => "u",
    }
}

pub(crate) fn encode(key: SortKey, value: i64, id: &str, as_of: Option<i64>) -> String {
    let head = match as_of {
        Some(as_of) => format!("{}~{as_of}", tag(key)),
        None => tag(key).to_string(),
    };
    URL_SAFE_NO_PAD.encode(format!("{head}|{value}|{id}"))
}

/// Decodes a cursor; a cursor made for another sort key is rejected because its value
/// would be compared against the wrong column.
pub(crate) fn decode(key: SortKey, cursor: &str) -> Result<Cursor, StoreError> {
    let invalid = || StoreError::InvalidCursor(cursor.to_string());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '|');
    let (Some(head), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let (t, as_of) = match head.split_once('~') {
        Some((t, as_of)) => (t, Some(as_of.parse::<i64>().map_err(|_| invalid())?)),
        None => (head, None),
    };
    if t != tag(key) || id.is_empty() {
        return Err(invalid());
    }
    let value = value.parse::<i64>().map_err(|_| invalid())?;
    Ok(Cursor {
        value,
        id: id.to_string(),
        as_of,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let c = encode(SortKey::UpdatedAt, -5, "a|b", None);
        assert_eq!(
            decode(SortKey::UpdatedAt, &c).unwrap(),
            Cursor {
                value: -5,
                id: "a|b".into(),
                as_of: None,
            }
        );
        let c = encode(SortKey::UpdatedAt, 7, "x", Some(42));
        assert_eq!(decode(SortKey::UpdatedAt, &c).unwrap().as_of, Some(42));
        assert!(decode(SortKey::CreatedAt, &c).is_err());
        assert!(decode(SortKey::CreatedAt, "!!").is_err());
        assert!(decode(SortKey::CreatedAt, &URL_SAFE_NO_PAD.encode("c|x|id")).is_err());
        assert!(decode(SortKey::UpdatedAt, &URL_SAFE_NO_PAD.encode("u~z|1|id")).is_err());
        // An old cursor (no as_of) is still accepted.
        let old = URL_SAFE_NO_PAD.encode("u|3|id");
        assert_eq!(decode(SortKey::UpdatedAt, &old).unwrap().as_of, None);
    }
}
