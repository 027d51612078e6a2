//! Configuration layers, as the official runtime has them (lowest precedence first):
//! system `/etc/codex/config.toml`, user `$CODEX_HOME/config.toml`, project
//! `.codex/config.toml` folders from the project root down to the working directory (only
//! with a working directory, and disabled unless the project is trusted), then the `-c`
//! overrides. Each layer has a version; the effective config is their merge; `origins` says
//! which layer each leaf key comes from.

use crate::convert::{merge_into, table_to_json, value_at};
use crate::de::DeError;
use crate::error::ConfigError;
use crate::fingerprint::version_of;
use codex_protocol::v2::{ConfigLayer, ConfigLayerMetadata, ConfigLayerSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::{Table, Value};

/// One layer: where it comes from, its keys, and its version.
#[derive(Clone, Debug)]
pub struct Layer {
    pub source: ConfigLayerSource,
    pub table: Table,
    pub version: String,
    /// Why the layer does not apply (an untrusted project); `None` when it does.
    pub disabled_reason: Option<String>,
    /// The file's text, kept only to put line numbers in error messages.
    pub(crate) text: Option<Arc<str>>,
}

impl Layer {
    pub(crate) fn new(source: ConfigLayerSource, table: Table, text: Option<Arc<str>>) -> Self {
        let version = version_of(&table);
        Layer {
            source,
            table,
            version,
            disabled_reason: None,
            text,
        }
    }

    pub fn metadata(&self) -> ConfigLayerMetadata {
        ConfigLayerMetadata {
            name: self.source.clone(),
            version: self.version.clone(),
        }
    }

    pub fn to_wire(&self) -> ConfigLayer {
        ConfigLayer {
            name: self.source.clone(),
            version: self.version.clone(),
            config: serde_json::Value::Object(table_to_json(&self.table)),
            disabled_reason: self.disabled_reason.clone(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.disabled_reason.is_none()
    }

    /// How error messages name this layer: its file, or what it is.
    pub fn display_name(&self) -> String {
        match &self.source {
            ConfigLayerSource::System { file }
            | ConfigLayerSource::User { file, .. }
            | ConfigLayerSource::PackagedDefaults { file }
            | ConfigLayerSource::LegacyManagedConfigTomlFromFile { file } => {
                file.display().to_string()
            }
            ConfigLayerSource::Project { dot_codex_folder } => {
                dot_codex_folder.join(CONFIG_FILE).display().to_string()
            }
            ConfigLayerSource::SessionFlags => "-c overrides".to_string(),
            ConfigLayerSource::Mdm { domain, key } => format!("MDM {domain}:{key}"),
            ConfigLayerSource::EnterpriseManaged { name, .. } => name.clone(),
            ConfigLayerSource::LegacyManagedConfigTomlFromMdm => "MDM managed config".to_string(),
        }
    }

    /// The directory relative paths in this layer are resolved against.
    pub(crate) fn base_dir(&self) -> Option<PathBuf> {
        match &self.source {
            ConfigLayerSource::System { file }
            | ConfigLayerSource::User { file, .. }
            | ConfigLayerSource::PackagedDefaults { file }
            | ConfigLayerSource::LegacyManagedConfigTomlFromFile { file } => {
                file.parent().map(Path::to_path_buf)
            }
            ConfigLayerSource::Project { dot_codex_folder } => Some(dot_codex_folder.clone()),
            _ => None,
        }
    }
}

/// The name of a configuration file inside its folder.
pub const CONFIG_FILE: &str = "config.toml";

/// Every layer, lowest precedence first.
#[derive(Clone, Debug, Default)]
pub struct LayerStack {
    pub layers: Vec<Layer>,
}

impl LayerStack {
    /// The merge of every enabled layer.
    pub fn effective(&self) -> Table {
        let mut merged = Table::new();
        for layer in self.layers.iter().filter(|l| l.is_enabled()) {
            merge_into(&mut merged, &layer.table);
        }
        merged
    }

    /// Dotted leaf key (array elements by index) -> the enabled layer that wins it.
    pub fn origins(&self) -> BTreeMap<String, ConfigLayerMetadata> {
        let mut origins = BTreeMap::new();
        for layer in self.layers.iter().filter(|l| l.is_enabled()) {
            let meta = layer.metadata();
            let mut path = Vec::new();
            for (key, value) in &layer.table {
                path.push(key.clone());
                record_leaves(value, &meta, &mut path, &mut origins);
                path.pop();
            }
        }
        origins
    }

    /// The layers for `config/read`, highest precedence first, disabled ones included.
    pub fn to_wire_high_to_low(&self) -> Vec<ConfigLayer> {
        self.layers.iter().rev().map(Layer::to_wire).collect()
    }

    pub fn user(&self) -> Option<&Layer> {
        self.layers
            .iter()
            .find(|l| matches!(l.source, ConfigLayerSource::User { .. }))
    }

    /// Replaces the user layer's content (after a write).
    pub(crate) fn with_user_table(&self, table: Table, text: Option<Arc<str>>) -> LayerStack {
        let layers = self
            .layers
            .iter()
            .map(|layer| match &layer.source {
                ConfigLayerSource::User { .. } => {
                    Layer::new(layer.source.clone(), table.clone(), text.clone())
                }
                _ => layer.clone(),
            })
            .collect();
        LayerStack { layers }
    }

    /// This stack with project layers inserted below the `-c` overrides.
    pub(crate) fn with_project_layers(&self, project: Vec<Layer>) -> LayerStack {
        let flags_at = self
            .layers
            .iter()
            .position(|l| matches!(l.source, ConfigLayerSource::SessionFlags))
            .unwrap_or(self.layers.len());
        let mut layers = self.layers.clone();
        layers.splice(flags_at..flags_at, project);
        LayerStack { layers }
    }

    /// The highest-precedence enabled layer with a value at `path`.
    pub fn winner(&self, path: &[String]) -> Option<&Layer> {
        self.layers
            .iter()
            .rev()
            .filter(|l| l.is_enabled())
            .find(|l| value_at(&l.table, path).is_some())
    }

    /// Turns a typed-deserialization error on the effective config into one that names the
    /// file (and line) the bad value came from. `overlay`, when given, is a per-thread config
    /// map applied above every layer.
    pub fn locate(&self, err: DeError, overlay: Option<&Table>) -> ConfigError {
        let segments = err.segments().to_vec();
        // The value at the error's path decides; a missing key is blamed on its parent table.
        for depth in (1..=segments.len()).rev() {
            let prefix = &segments[..depth];
            if overlay.is_some_and(|t| value_at(t, prefix).is_some()) {
                return invalid("thread config".to_string(), None, err);
            }
            if let Some(layer) = self.winner(prefix) {
                let line = layer.text.as_deref().and_then(|text| line_of(text, prefix));
                return invalid(layer.display_name(), line, err);
            }
        }
        invalid("config".to_string(), None, err)
    }
}

fn invalid(source_name: String, line: Option<usize>, err: DeError) -> ConfigError {
    ConfigError::Invalid {
        source_name,
        line,
        key: err.key(),
        problem: err.problem,
    }
}

fn record_leaves(
    value: &Value,
    meta: &ConfigLayerMetadata,
    path: &mut Vec<String>,
    origins: &mut BTreeMap<String, ConfigLayerMetadata>,
) {
    match value {
        Value::Table(table) => {
            for (key, child) in table {
                path.push(key.clone());
                record_leaves(child, meta, path, origins);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(index.to_string());
                record_leaves(child, meta, path, origins);
                path.pop();
            }
        }
        _ => {
            origins.insert(path.join("."), meta.clone());
        }
    }
}

/// The 1-based line of the value at `path` in a TOML text, when it can be found.
pub(crate) fn line_of(text: &str, path: &[String]) -> Option<usize> {
    let doc = toml_edit::ImDocument::parse(text).ok()?;
    let mut item = doc.as_item();
    for segment in path {
        item = match item {
            toml_edit::Item::ArrayOfTables(_)
            | toml_edit::Item::Value(toml_edit::Value::Array(_)) => {
                item.get(segment.parse::<usize>().ok()?)?
            }
            _ => item.get(segment.as_str())?,
        };
    }
    let start = item.span()?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

/// Reads and parses one layer file; `None` when it does not exist.
pub(crate) fn read_toml_file(path: &Path) -> Result<Option<(Arc<str>, Table)>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let table = parse_toml(&text, path)?;
    Ok(Some((Arc::from(text), table)))
}

/// Parses TOML text; a syntax error names the file and line.
pub(crate) fn parse_toml(text: &str, path: &Path) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text.get(..s.start).unwrap_or(text).matches('\n').count() + 1)
            .unwrap_or(1);
        ConfigError::Malformed {
            path: path.to_path_buf(),
            line,
            reason: e.message().to_string(),
        }
    })
}
