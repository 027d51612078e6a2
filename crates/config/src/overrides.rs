//! `-c key=value` overrides and dotted key paths: parsing, and laying values into a table.
//! Per-thread `config` maps (`thread/start.config`) go through the same functions.

use crate::error::ConfigError;
use toml::{Table, Value};

/// One `-c key=value`: a dotted key path and a TOML value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    pub path: Vec<String>,
    pub value: Value,
}

/// Parses overrides: the value is TOML when it parses as TOML, else a raw string.
pub fn parse_overrides(raw: &[String]) -> Result<Vec<Override>, ConfigError> {
    raw.iter().map(|r| parse_override(r)).collect()
}

fn parse_override(raw: &str) -> Result<Override, ConfigError> {
    let (key, value) = raw
        .split_once('=')
        .ok_or_else(|| ConfigError::Override(raw.to_string()))?;
    let path = parse_key_path(key).ok_or_else(|| ConfigError::Override(raw.to_string()))?;
    Ok(Override {
        path,
        value: parse_value(value.trim()),
    })
}

/// Splits a dotted key path. TOML key syntax is honoured first, so a segment may be quoted
/// (`projects."/home/me/repo".trust_level`); otherwise the text is split at each `.`.
/// `None` for an empty path or an empty segment.
pub fn parse_key_path(key: &str) -> Option<Vec<String>> {
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    if let Ok(keys) = toml_edit::Key::parse(key) {
        return Some(keys.into_iter().map(|k| k.get().to_string()).collect());
    }
    let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
    if path.iter().any(String::is_empty) {
        return None;
    }
    Some(path)
}

/// A TOML value from text: `x = <text>` parsed as a document gives the typed value.
pub fn parse_value(text: &str) -> Value {
    match format!("x = {text}").parse::<Table>() {
        Ok(mut t) => t
            .remove("x")
            .unwrap_or_else(|| Value::String(text.to_string())),
        Err(_) => Value::String(text.to_string()),
    }
}

/// Applies an override onto a table, creating intermediate tables (and replacing non-tables
/// in the way, as a later `-c` wins over an earlier one).
pub fn apply_override(table: &mut Table, ov: &Override) {
    let Some((last, parents)) = ov.path.split_last() else {
        return;
    };
    let mut cur = table;
    for key in parents {
        let entry = cur
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(next) = entry else { return };
        cur = next;
    }
    cur.insert(last.clone(), ov.value.clone());
}

/// Builds the table a list of overrides describes, later ones winning.
pub fn overrides_table(overrides: &[Override]) -> Table {
    let mut table = Table::new();
    for ov in overrides {
        apply_override(&mut table, ov);
    }
    table
}

/// A per-thread `config` map (JSON, dotted keys allowed) as a TOML table; `null` values are
/// skipped (TOML has no null), numbers become integers when they are whole.
pub fn table_from_json(map: &serde_json::Map<String, serde_json::Value>) -> Table {
    let mut table = Table::new();
    for (key, value) in map {
        let (Some(path), Some(value)) = (parse_key_path(key), crate::convert::json_to_toml(value))
        else {
            continue;
        };
        apply_override(&mut table, &Override { path, value });
    }
    table
}
