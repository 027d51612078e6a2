//! Conversions between TOML values and JSON values (the wire), and deep merging of tables.

use serde_json::{Map, Value as Json};
use toml::{Table, Value};

/// A TOML value as JSON; datetimes become their TOML text.
pub fn toml_to_json(value: &Value) -> Json {
    match value {
        Value::String(s) => Json::String(s.clone()),
        Value::Integer(n) => Json::from(*n),
        Value::Float(x) => serde_json::Number::from_f64(*x)
            .map(Json::Number)
            .unwrap_or_else(|| Json::String(x.to_string())),
        Value::Boolean(b) => Json::Bool(*b),
        Value::Datetime(d) => Json::String(d.to_string()),
        Value::Array(items) => Json::Array(items.iter().map(toml_to_json).collect()),
        Value::Table(table) => Json::Object(table_to_json(table)),
    }
}

pub fn table_to_json(table: &Table) -> Map<String, Json> {
    table
        .iter()
        .map(|(k, v)| (k.clone(), toml_to_json(v)))
        .collect()
}

/// A JSON value as TOML; `None` for `null` (TOML has none), also inside arrays and objects
/// where the entry is dropped. Whole numbers become integers.
pub fn json_to_toml(value: &Json) -> Option<Value> {
    Some(match value {
        Json::Null => return None,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => Value::String(s.clone()),
        Json::Array(items) => Value::Array(items.iter().filter_map(json_to_toml).collect()),
        Json::Object(map) => Value::Table(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    })
}

/// A JSON value as TOML for a write, refusing what TOML cannot hold instead of dropping it.
pub fn json_to_toml_strict(value: &Json) -> Result<Value, String> {
    match value {
        Json::Null => Err("null cannot be stored inside an array or a table".to_string()),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Value::Integer(i)),
            (None, Some(_)) if n.is_u64() => Err(format!("{n} is too large for a TOML integer")),
            (None, Some(x)) => Ok(Value::Float(x)),
            (None, None) => Err(format!("{n} is not a TOML number")),
        },
        Json::Array(items) => items
            .iter()
            .map(json_to_toml_strict)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Json::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), json_to_toml_strict(v)?)))
            .collect::<Result<Table, String>>()
            .map(Value::Table),
        Json::Bool(b) => Ok(Value::Boolean(*b)),
        Json::String(s) => Ok(Value::String(s.clone())),
    }
}

/// Merges `overlay` into `base`: tables merge key by key, anything else replaces.
pub fn merge_into(base: &mut Table, overlay: &Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => {
                merge_into(existing, incoming)
            }
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// The value at a key path, descending into tables (and arrays by index).
pub fn value_at<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut current = table.get(first)?;
    for segment in rest {
        current = match current {
            Value::Table(t) => t.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}
