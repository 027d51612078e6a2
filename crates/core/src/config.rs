//! Configuration: `$CODEX_HOME/config.toml` merged with `-c key=value` overrides, then read into
//! the typed settings the runtime uses. Unknown keys are ignored; a malformed file is reported
//! with its path, line and reason.

use std::path::{Path, PathBuf};
use thiserror::Error;
use toml::{Table, Value};

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{path}:{line}: {reason}")]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid override {0:?}: expected key=value")]
    Override(String),
    #[error("invalid value for `{key}`: {reason}")]
    Value { key: String, reason: String },
    #[error("cannot determine CODEX_HOME: set CODEX_HOME or HOME")]
    NoHome,
    #[error(transparent)]
    Provider(#[from] codex_model::ModelError),
}

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
    let key = key.trim();
    if key.is_empty() {
        return Err(ConfigError::Override(raw.to_string()));
    }
    let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
    if path.iter().any(String::is_empty) {
        return Err(ConfigError::Override(raw.to_string()));
    }
    Ok(Override {
        path,
        value: parse_value(value.trim()),
    })
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

/// Applies an override onto a table, creating intermediate tables.
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

/// The settings the runtime reads; `raw` keeps the merged table for per-thread re-resolution.
#[derive(Clone, Debug)]
pub struct Config {
    pub codex_home: PathBuf,
    pub raw: Table,
}

impl Config {
    /// Loads `$CODEX_HOME/config.toml` (missing file = empty) and applies the overrides.
    pub fn load(overrides: Vec<Override>) -> Result<Config, ConfigError> {
        let codex_home = codex_home()?;
        std::fs::create_dir_all(&codex_home).map_err(|source| ConfigError::Read {
            path: codex_home.clone(),
            source,
        })?;
        Self::load_from(codex_home, overrides)
    }

    pub fn load_from(codex_home: PathBuf, overrides: Vec<Override>) -> Result<Config, ConfigError> {
        let path = codex_home.join("config.toml");
        let mut raw = read_toml_file(&path)?;
        for ov in &overrides {
            apply_override(&mut raw, ov);
        }
        let config = Config { codex_home, raw };
        // Validate eagerly so a bad value fails at start-up, not at the first turn.
        config.settings(&Table::new())?;
        Ok(config)
    }

    /// The resolved settings with extra per-request overrides (`thread/start.config`) applied.
    pub fn settings(&self, extra: &Table) -> Result<Settings, ConfigError> {
        let mut merged = self.raw.clone();
        for (k, v) in extra {
            merged.insert(k.clone(), v.clone());
        }
        Settings::from_table(&merged)
    }
}

fn codex_home() -> Result<PathBuf, ConfigError> {
    if let Some(home) = std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(home);
        return Ok(std::path::absolute(&p).unwrap_or(p));
    }
    let home = std::env::var_os("HOME").ok_or(ConfigError::NoHome)?;
    Ok(PathBuf::from(home).join(".codex"))
}

fn read_toml_file(path: &Path) -> Result<Table, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Table::new()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    text.parse::<Table>().map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ConfigError::Malformed {
            path: path.to_path_buf(),
            line,
            reason: e.message().to_string(),
        }
    })
}

/// Typed view of the keys that matter (agent-core §7.2).
#[derive(Clone, Debug)]
pub struct Settings {
    pub model: Option<String>,
    pub model_provider: String,
    pub providers: std::collections::BTreeMap<String, codex_model::ProviderInfo>,
    pub approval_policy: Option<String>,
    pub sandbox_mode: Option<String>,
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
    pub reasoning_effort: Option<String>,
    pub reasoning_summary: Option<String>,
    pub base_instructions: Option<String>,
    pub developer_instructions: Option<String>,
    pub model_context_window: Option<i64>,
    pub auto_compact_token_limit: Option<i64>,
    pub compact_prompt: Option<String>,
    pub project_doc_max_bytes: usize,
}

/// The model used when nothing is configured.
pub const DEFAULT_MODEL: &str = "gpt-5.1-codex";

impl Settings {
    pub fn from_table(t: &Table) -> Result<Settings, ConfigError> {
        let s = |k: &str| get_str(t, k);
        let ww = t
            .get("sandbox_workspace_write")
            .and_then(Value::as_table)
            .cloned()
            .unwrap_or_default();
        let base_instructions = match get_str(t, "model_instructions_file")?
            .or(get_str(t, "experimental_instructions_file")?)
        {
            Some(file) => Some(
                std::fs::read_to_string(&file).map_err(|e| ConfigError::Value {
                    key: "model_instructions_file".into(),
                    reason: format!("{file}: {e}"),
                })?,
            ),
            None => s("base_instructions")?,
        };
        Ok(Settings {
            model: s("model")?,
            model_provider: s("model_provider")?.unwrap_or_else(|| "openai".to_string()),
            providers: codex_model::providers_from_config(t)?,
            approval_policy: s("approval_policy")?,
            sandbox_mode: s("sandbox_mode")?,
            writable_roots: ww
                .get("writable_roots")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default(),
            network_access: ww
                .get("network_access")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            exclude_tmpdir_env_var: ww
                .get("exclude_tmpdir_env_var")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            exclude_slash_tmp: ww
                .get("exclude_slash_tmp")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reasoning_effort: s("model_reasoning_effort")?,
            reasoning_summary: s("model_reasoning_summary")?,
            base_instructions,
            developer_instructions: s("developer_instructions")?,
            model_context_window: get_int(t, "model_context_window")?,
            auto_compact_token_limit: get_int(t, "model_auto_compact_token_limit")?,
            compact_prompt: s("compact_prompt")?,
            project_doc_max_bytes: get_int(t, "project_doc_max_bytes")?
                .map(|n| n.max(0) as usize)
                .unwrap_or(32 * 1024),
        })
    }

    pub fn provider(&self, id: &str) -> Result<codex_model::ProviderInfo, ConfigError> {
        self.providers
            .get(id)
            .cloned()
            .ok_or_else(|| ConfigError::Value {
                key: "model_provider".into(),
                reason: format!("unknown provider {id:?}"),
            })
    }
}

fn get_str(t: &Table, key: &str) -> Result<Option<String>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ConfigError::Value {
            key: key.into(),
            reason: format!("expected a string, found {}", other.type_str()),
        }),
    }
}

fn get_int(t: &Table, key: &str) -> Result<Option<i64>, ConfigError> {
    match t.get(key) {
        None => Ok(None),
        Some(Value::Integer(n)) => Ok(Some(*n)),
        Some(other) => Err(ConfigError::Value {
            key: key.into(),
            reason: format!("expected an integer, found {}", other.type_str()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_toml_then_fall_back_to_strings() {
        let ovs = parse_overrides(&[
            "model=o3".into(),
            "model_providers.mock.request_max_retries=0".into(),
            "sandbox_workspace_write.writable_roots=[\"/a\"]".into(),
        ])
        .unwrap();
        let mut t = Table::new();
        for o in &ovs {
            apply_override(&mut t, o);
        }
        assert_eq!(t["model"].as_str(), Some("o3"));
        assert_eq!(
            t["model_providers"]["mock"]["request_max_retries"].as_integer(),
            Some(0)
        );
        assert_eq!(
            t["sandbox_workspace_write"]["writable_roots"][0].as_str(),
            Some("/a")
        );
        assert!(parse_overrides(&["novalue".into()]).is_err());
    }

    #[test]
    fn malformed_file_names_path_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "model = \"a\"\n\nthis is = = bad\n",
        )
        .unwrap();
        let err = Config::load_from(dir.path().to_path_buf(), vec![]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("config.toml:3:"), "{msg}");
    }

    #[test]
    fn unknown_keys_are_ignored_and_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.toml"),
            "model = \"a\"\nwhatever = 3\n",
        )
        .unwrap();
        let cfg = Config::load_from(
            dir.path().to_path_buf(),
            parse_overrides(&["model=b".into()]).unwrap(),
        )
        .unwrap();
        assert_eq!(
            cfg.settings(&Table::new()).unwrap().model.as_deref(),
            Some("b")
        );
    }
}
