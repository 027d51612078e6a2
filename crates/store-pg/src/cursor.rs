//! Keyset cursors of PostgreSQL listings: hex of `"<tag>~<as_of>|<sort value>|<thread id>"`
//! (`c` created_at, `u` updated_at; `as_of` is the write sequence of the first page, which
//! later pages of an `updated_at` walk stay within). Opaque to clients.

use codex_store::{SortKey, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub value: i64,
    pub id: String,
    pub as_of: i64,
}

fn tag(key: SortKey) -> char {
    match key {
        SortKey::CreatedAt => 'c',
        SortKey::UpdatedAt => 'u',
    }
}

pub(crate) fn encode(key: SortKey, c: &Cursor) -> String {
    let text = format!("{}~{}|{}|{}", tag(key), c.as_of, c.value, c.id);
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn decode(key: SortKey, cursor: &str) -> Result<Cursor, StoreError> {
    let invalid = || StoreError::InvalidCursor(cursor.to_string());
    if cursor.len() & 1 == 1 || !cursor.is_ascii() {
        return Err(invalid());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&cursor[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.splitn(3, '|');
    let (Some(head), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let (t, as_of) = head.split_once('~').ok_or_else(invalid)?;
    if t.len() != 1 || !t.starts_with(tag(key)) || id.is_empty() {
        return Err(invalid());
    }
    Ok(Cursor {
        value: value.parse().map_err(|_| invalid())?,
        id: id.to_string(),
        as_of: as_of.parse().map_err(|_| invalid())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let c = Cursor {
            value: -3,
            id: "a|b".into(),
            as_of: 9,
        };
        let text = encode(SortKey::UpdatedAt, &c);
        assert_eq!(decode(SortKey::UpdatedAt, &text).unwrap(), c);
        assert!(decode(SortKey::CreatedAt, &text).is_err());
        assert!(decode(SortKey::CreatedAt, "zz").is_err());
        assert!(decode(SortKey::CreatedAt, "abc").is_err());
        assert!(decode(SortKey::CreatedAt, "é1").is_err());
    }
}
