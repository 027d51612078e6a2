//! Editing `config.toml`: applying one edit to a table, rendering the result into the file's
//! text while keeping its comments, order and formatting (only what changed is rewritten), and
//! replacing the file atomically.

use crate::convert::merge_into;
use codex_protocol::v2::MergeStrategy;
use std::io::Write as _;
use std::path::Path;
use toml::{Table, Value};

/// Why an edit cannot be applied to the table.
#[derive(Debug, PartialEq, Eq)]
pub enum EditError {
    /// A key on the path holds a value that is not a table.
    NotATable(String),
}

/// Sets (`Some`) or removes (`None`) the value at `path`. `Upsert` merges a table into an
/// existing table key by key; `Replace` puts the value in as it is. Removing a key that is
/// not there is not an error.
pub fn apply(
    table: &mut Table,
    path: &[String],
    value: Option<Value>,
    strategy: MergeStrategy,
) -> Result<(), EditError> {
    let Some((last, parents)) = path.split_last() else {
        return Ok(());
    };
    let mut current = table;
    for (depth, key) in parents.iter().enumerate() {
        if value.is_none() && !current.contains_key(key) {
            return Ok(());
        }
        let entry = current
            .entry(key.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        current = match entry {
            Value::Table(t) => t,
            other => {
                return Err(EditError::NotATable(format!(
                    "`{}` holds {}, not a table",
                    path[..=depth].join("."),
                    crate::de::kind(other)
                )))
            }
        };
    }
    match value {
        None => {
            current.remove(last);
        }
        Some(Value::Table(incoming)) if strategy == MergeStrategy::Upsert => {
            match current.get_mut(last) {
                Some(Value::Table(existing)) => merge_into(existing, &incoming),
                _ => {
                    current.insert(last.clone(), Value::Table(incoming));
                }
            }
        }
        Some(value) => {
            current.insert(last.clone(), value);
        }
    }
    Ok(())
}

/// The text of `original` changed to hold exactly `target`: untouched keys keep their
/// formatting and comments, a changed value keeps the comment after it, new keys go at the
/// end of their table, new tables become `[sections]`.
pub fn render(original: &str, target: &Table) -> Result<String, toml_edit::TomlError> {
    let mut doc: toml_edit::DocumentMut = original.parse()?;
    sync_table(doc.as_table_mut(), target);
    Ok(doc.to_string())
}

fn sync_table(table: &mut toml_edit::Table, target: &Table) {
    let stale: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !target.contains_key(k))
        .collect();
    for key in stale {
        table.remove(&key);
    }
    for (key, wanted) in target {
        match table.get_mut(key) {
            Some(item) if item_value(item).as_ref() == Some(wanted) => {}
            Some(toml_edit::Item::Table(sub)) if wanted.is_table() => {
                if let Value::Table(wanted) = wanted {
                    sync_table(sub, wanted);
                }
            }
            Some(toml_edit::Item::Value(slot)) => sync_value(slot, wanted),
            _ => {
                table.insert(key, new_item(wanted));
            }
        }
    }
}

fn sync_inline(table: &mut toml_edit::InlineTable, target: &Table) {
    let stale: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !target.contains_key(k))
        .collect();
    for key in stale {
        table.remove(&key);
    }
    for (key, wanted) in target {
        match table.get_mut(key) {
            Some(slot) => sync_value(slot, wanted),
            None => {
                table.insert(key, edit_value(wanted));
            }
        }
    }
}

/// Brings a value in place to `wanted`, keeping its surrounding whitespace and comment.
fn sync_value(slot: &mut toml_edit::Value, wanted: &Value) {
    if value_of(slot).as_ref() == Some(wanted) {
        return;
    }
    if let (toml_edit::Value::InlineTable(inline), Value::Table(wanted)) = (&mut *slot, wanted) {
        sync_inline(inline, wanted);
        return;
    }
    let decor = slot.decor().clone();
    *slot = edit_value(wanted);
    *slot.decor_mut() = decor;
}

fn new_item(value: &Value) -> toml_edit::Item {
    match value {
        Value::Table(table) => {
            let mut section = toml_edit::Table::new();
            for (key, child) in table {
                section.insert(key, new_item(child));
            }
            toml_edit::Item::Table(section)
        }
        other => toml_edit::Item::Value(edit_value(other)),
    }
}

fn edit_value(value: &Value) -> toml_edit::Value {
    match value {
        Value::String(s) => s.as_str().into(),
        Value::Integer(n) => (*n).into(),
        Value::Float(x) => (*x).into(),
        Value::Boolean(b) => (*b).into(),
        Value::Datetime(d) => (*d).into(),
        Value::Array(items) => toml_edit::Value::Array(items.iter().map(edit_value).collect()),
        Value::Table(table) => {
            let mut inline = toml_edit::InlineTable::new();
            for (key, child) in table {
                inline.insert(key, edit_value(child));
            }
            toml_edit::Value::InlineTable(inline)
        }
    }
}

fn item_value(item: &toml_edit::Item) -> Option<Value> {
    match item {
        toml_edit::Item::None => None,
        toml_edit::Item::Value(v) => value_of(v),
        toml_edit::Item::Table(t) => Some(Value::Table(
            t.iter()
                .filter_map(|(k, v)| Some((k.to_string(), item_value(v)?)))
                .collect(),
        )),
        toml_edit::Item::ArrayOfTables(tables) => Some(Value::Array(
            tables
                .iter()
                .map(|t| item_value(&toml_edit::Item::Table(t.clone())))
                .collect::<Option<Vec<_>>>()?,
        )),
    }
}

fn value_of(value: &toml_edit::Value) -> Option<Value> {
    Some(match value {
        toml_edit::Value::String(s) => Value::String(s.value().clone()),
        toml_edit::Value::Integer(n) => Value::Integer(*n.value()),
        toml_edit::Value::Float(x) => Value::Float(*x.value()),
        toml_edit::Value::Boolean(b) => Value::Boolean(*b.value()),
        toml_edit::Value::Datetime(d) => Value::Datetime(*d.value()),
        toml_edit::Value::Array(items) => {
            Value::Array(items.iter().map(value_of).collect::<Option<Vec<_>>>()?)
        }
        toml_edit::Value::InlineTable(table) => Value::Table(
            table
                .iter()
                .map(|(k, v)| Some((k.to_string(), value_of(v)?)))
                .collect::<Option<Table>>()?,
        ),
    })
}

/// Replaces `path` with `text` so readers see the old file or the new one, never a mix: the
/// text goes to a temporary file in the same directory, is synced, and is renamed over the
/// target (a symlinked config is written through to its target). The file keeps its mode.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target
        .parent()
        .ok_or_else(|| std::io::Error::other("the config file has no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.toml".to_string());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)?;
        if let Ok(meta) = std::fs::metadata(&target) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)?;
        // The rename itself must survive a crash too.
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}
