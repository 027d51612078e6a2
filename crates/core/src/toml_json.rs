//! Converting a JSON object from the protocol (`thread/start.config`, dotted keys allowed) into
//! a TOML table that the configuration loader understands.

use crate::config::{apply_override, Override};
use serde_json::Value as Json;

/// `{"a.b": 1, "c": {"d": true}}` becomes `[a] b = 1` and `[c] d = true`; `null` values are
/// dropped (TOML has no null).
pub fn json_to_toml_table(map: &serde_json::Map<String, Json>) -> toml::Table {
    let mut table = toml::Table::new();
    for (key, value) in map {
        if let Some(value) = json_to_toml(value) {
            let ov = Override {
                path: key.split('.').map(str::to_string).collect(),
                value,
            };
            apply_override(&mut table, &ov);
        }
    }
    table
}

fn json_to_toml(v: &Json) -> Option<toml::Value> {
    Some(match v {
        Json::Null => return None,
        Json::Bool(b) => toml::Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Json::String(s) => toml::Value::String(s.clone()),
        Json::Array(a) => toml::Value::Array(a.iter().filter_map(json_to_toml).collect()),
        Json::Object(o) => toml::Value::Table(json_to_toml_table(o)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dotted_keys_nest_and_nulls_drop() {
        let Json::Object(map) = json!({"a.b": 1, "c": {"d": true, "e": null}, "f": 1.5}) else {
            unreachable!()
        };
        let t = json_to_toml_table(&map);
        assert_eq!(t["a"]["b"].as_integer(), Some(1));
        assert_eq!(t["c"]["d"].as_bool(), Some(true));
        assert!(t["c"].get("e").is_none());
        assert_eq!(t["f"].as_float(), Some(1.5));
    }
}
