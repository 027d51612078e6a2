//! The `config/*` operations as plain functions on [`ConfigHandle`]: params in, response or
//! [`ConfigServiceError`] out. They read and write files, so a handler runs them on the
//! blocking pool. Writes are serialised, checked against `expectedVersion`, validated as a
//! whole before anything is written, and made current for new threads once written.

use crate::config::Config;
use crate::convert::{json_to_toml_strict, table_to_json, toml_to_json, value_at};
use crate::edit::{self, EditError};
use crate::error::ConfigServiceError;
use crate::handle::ConfigHandle;
use crate::layers::{Layer, LayerStack, CONFIG_FILE};
use crate::overrides::parse_key_path;
use crate::settings::Resolver;
use codex_protocol::v2::{
    ConfigBatchWriteParams, ConfigLayerSource, ConfigReadParams, ConfigReadResponse,
    ConfigRequirementsReadResponse, ConfigValueWriteParams, ConfigWriteErrorCode,
    ConfigWriteResponse, EffectiveConfig, MergeStrategy, OverriddenMetadata, WriteStatus,
};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Table;

impl ConfigHandle {
    /// `config/read`: the configuration as it is on disk now. Without `cwd` the answer is
    /// thread-agnostic and also becomes the current configuration (an on-demand reload).
    pub fn read(&self, params: ConfigReadParams) -> Result<ConfigReadResponse, ConfigServiceError> {
        let _writing = self.lock_writes();
        let current = self.config();
        let options = current.options().clone();
        let cwd = params.cwd.as_deref().map(absolute_cwd).transpose()?;
        let stack = options.load_layers(cwd.as_deref())?;
        let requirements = options.load_requirements()?;
        let effective = stack.effective();
        Resolver {
            stack: &stack,
            overlay: None,
            requirements: requirements.as_ref(),
            read_files: true,
        }
        .resolve(effective.clone())?;
        let response = ConfigReadResponse {
            config: EffectiveConfig(table_to_json(&effective)),
            origins: stack.origins(),
            layers: params.include_layers.then(|| stack.to_wire_high_to_low()),
        };
        if cwd.is_none() {
            self.install(Config::from_parts(options, stack, requirements)?)?;
        }
        Ok(response)
    }

    /// `configRequirements/read`: the requirements file as it is now (`null` when absent).
    pub fn read_requirements(&self) -> Result<ConfigRequirementsReadResponse, ConfigServiceError> {
        let requirements = self.config().options().load_requirements()?;
        Ok(ConfigRequirementsReadResponse {
            requirements: requirements.map(|r| r.wire),
            supports_independent_speed_modes: true,
        })
    }

    /// `config/value/write`.
    pub fn write_value(
        &self,
        params: ConfigValueWriteParams,
    ) -> Result<ConfigWriteResponse, ConfigServiceError> {
        self.apply_edits(
            params.file_path,
            params.expected_version,
            vec![(params.key_path, params.value, params.merge_strategy)],
        )
    }

    /// `config/batchWrite`: every edit or none.
    pub fn batch_write(
        &self,
        params: ConfigBatchWriteParams,
    ) -> Result<ConfigWriteResponse, ConfigServiceError> {
        let edits = params
            .edits
            .into_iter()
            .map(|e| (e.key_path, e.value, e.merge_strategy))
            .collect();
        self.apply_edits(params.file_path, params.expected_version, edits)
    }

    fn apply_edits(
        &self,
        file_path: Option<String>,
        expected_version: Option<String>,
        edits: Vec<(String, Json, MergeStrategy)>,
    ) -> Result<ConfigWriteResponse, ConfigServiceError> {
        let _writing = self.lock_writes();
        let current = self.config();
        let options = current.options().clone();
        let user_file = options.user_config_file();
        if let Some(requested) = file_path {
            check_writable(&requested, &user_file)?;
        }

        let stack = options.load_layers(None)?;
        let Some(user) = stack.user() else {
            return Err(ConfigServiceError::write(
                ConfigWriteErrorCode::UserLayerNotFound,
                "the user config layer is missing",
            ));
        };
        if expected_version.is_some_and(|v| v != user.version) {
            return Err(ConfigServiceError::write(
                ConfigWriteErrorCode::ConfigVersionConflict,
                "Configuration was modified since last read. Fetch latest version and retry.",
            ));
        }

        let mut table = user.table.clone();
        let mut paths = Vec::with_capacity(edits.len());
        for (key_path, value, strategy) in edits {
            let path = parse_key_path(&key_path).ok_or_else(|| {
                invalid(if key_path.trim().is_empty() {
                    "keyPath must not be empty".to_string()
                } else {
                    format!("invalid keyPath {key_path:?}")
                })
            })?;
            let value = match value {
                Json::Null => None,
                other => Some(
                    json_to_toml_strict(&other)
                        .map_err(|e| invalid(format!("invalid value for {key_path}: {e}")))?,
                ),
            };
            edit::apply(&mut table, &path, value, strategy).map_err(|e| match e {
                EditError::NotATable(message) => {
                    ConfigServiceError::write(ConfigWriteErrorCode::ConfigPathNotFound, message)
                }
            })?;
            paths.push(path);
        }

        let original = user.text.as_deref().unwrap_or("");
        let text = edit::render(original, &table)
            .map_err(|e| invalid(format!("cannot edit {}: {e}", user_file.display())))?;
        validate_alone(&user_file, &table, &text)?;
        let changed = table != user.table;
        let updated = stack.with_user_table(table, Some(Arc::from(text.as_str())));
        let requirements = options.load_requirements()?;
        let config = Config::from_parts(options, updated, requirements)
            .map_err(|e| invalid(format!("Invalid configuration: {e}")))?;

        if changed {
            edit::write_atomically(&user_file, &text).map_err(|source| ConfigServiceError::Io {
                context: "writing",
                path: user_file.clone(),
                source,
            })?;
        }
        let overridden = overridden_metadata(config.layers(), &config.raw, &paths);
        let version = config
            .layers()
            .user()
            .map(|l| l.version.clone())
            .unwrap_or_default();
        self.install(config)?;
        Ok(ConfigWriteResponse {
            status: if overridden.is_some() {
                WriteStatus::OkOverridden
            } else {
                WriteStatus::Ok
            },
            version,
            file_path: user_file,
            overridden_metadata: overridden,
        })
    }
}

fn invalid(message: String) -> ConfigServiceError {
    ConfigServiceError::write(ConfigWriteErrorCode::ConfigValidationError, message)
}

/// Only the user's `config.toml` may be written; the other layers belong to an administrator,
/// a repository or the command line.
fn check_writable(requested: &str, user_file: &Path) -> Result<(), ConfigServiceError> {
    let requested = PathBuf::from(requested);
    let same = requested.is_absolute()
        && (requested == user_file
            || matches!(
                (std::fs::canonicalize(&requested), std::fs::canonicalize(user_file)),
                (Ok(a), Ok(b)) if a == b
            ));
    if same {
        Ok(())
    } else {
        Err(ConfigServiceError::write(
            ConfigWriteErrorCode::ConfigLayerReadonly,
            "Only writes to the user config are allowed",
        ))
    }
}

/// The user file must be valid by itself too: a value hidden by a `-c` override today would
/// break the next start without it.
fn validate_alone(user_file: &Path, table: &Table, text: &str) -> Result<(), ConfigServiceError> {
    let alone = LayerStack {
        layers: vec![Layer::new(
            ConfigLayerSource::User {
                file: user_file.to_path_buf(),
                profile: None,
            },
            table.clone(),
            Some(Arc::from(text)),
        )],
    };
    Resolver {
        stack: &alone,
        overlay: None,
        requirements: None,
        read_files: false,
    }
    .resolve(table.clone())
    .map(|_| ())
    .map_err(|e| invalid(format!("Invalid configuration: {e}")))
}

/// For the first written key whose effective value is not the written one, which layer wins.
fn overridden_metadata(
    stack: &LayerStack,
    effective: &Table,
    paths: &[Vec<String>],
) -> Option<OverriddenMetadata> {
    let user = stack.user()?;
    paths.iter().find_map(|path| {
        let written = value_at(&user.table, path);
        let effective_value = value_at(effective, path);
        if written == effective_value {
            return None;
        }
        let winner = stack.winner(path)?;
        Some(OverriddenMetadata {
            message: override_message(&winner.source),
            overriding_layer: winner.metadata(),
            effective_value: effective_value.map(toml_to_json).unwrap_or(Json::Null),
        })
    })
}

fn override_message(source: &ConfigLayerSource) -> String {
    match source {
        ConfigLayerSource::SessionFlags => "Overridden by session flags".to_string(),
        ConfigLayerSource::Project { dot_codex_folder } => format!(
            "Overridden by project config: {}",
            dot_codex_folder.join(CONFIG_FILE).display()
        ),
        ConfigLayerSource::System { file } => {
            format!("Overridden by managed config (system): {}", file.display())
        }
        ConfigLayerSource::User { file, .. } => {
            format!("Overridden by user config: {}", file.display())
        }
        ConfigLayerSource::Mdm { domain, .. } => {
            format!("Overridden by managed policy (MDM): {domain}")
        }
        ConfigLayerSource::LegacyManagedConfigTomlFromFile { file } => format!(
            "Overridden by legacy managed_config.toml: {}",
            file.display()
        ),
        ConfigLayerSource::LegacyManagedConfigTomlFromMdm => {
            "Overridden by legacy managed configuration from MDM".to_string()
        }
        ConfigLayerSource::PackagedDefaults { file } => {
            format!("Overridden by packaged defaults: {}", file.display())
        }
        ConfigLayerSource::EnterpriseManaged { name, .. } => {
            format!("Overridden by enterprise managed config: {name}")
        }
    }
}

/// `config/read`'s `cwd`, made absolute against the process directory.
fn absolute_cwd(cwd: &str) -> Result<PathBuf, ConfigServiceError> {
    std::path::absolute(cwd).map_err(|e| ConfigServiceError::InvalidCwd {
        cwd: cwd.to_string(),
        reason: e.to_string(),
    })
}
