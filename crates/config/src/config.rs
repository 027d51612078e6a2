//! [`Config`]: the layers loaded from disk plus the `-c` overrides, validated, with the merged
//! table kept for per-thread re-resolution. Loading reads files; resolving settings from a
//! loaded `Config` does not (except a configured instructions file).

use crate::convert::merge_into;
use crate::de;
use crate::error::ConfigError;
use crate::layers::{read_toml_file, Layer, LayerStack, CONFIG_FILE};
use crate::overrides::{overrides_table, Override};
use crate::project::{project_layers, ProjectKeys};
use crate::requirements::{Requirements, SYSTEM_REQUIREMENTS_FILE};
use crate::settings::{Resolver, Settings};
use codex_protocol::v2::ConfigLayerSource;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use toml::Table;

/// Where the official runtime reads the system layer on Unix.
pub const SYSTEM_CONFIG_FILE: &str = "/etc/codex/config.toml";

/// What to load: the home, the overrides, and the system-wide files (replaceable for tests).
#[derive(Clone, Debug)]
pub struct LoadOptions {
    pub codex_home: PathBuf,
    pub overrides: Vec<Override>,
    /// The system layer's file; `None` leaves the layer out.
    pub system_config_file: Option<PathBuf>,
    /// The requirements file; `None` means no requirements.
    pub requirements_file: Option<PathBuf>,
}

impl LoadOptions {
    /// The official locations: `/etc/codex/config.toml` and `/etc/codex/requirements.toml`.
    pub fn new(codex_home: PathBuf, overrides: Vec<Override>) -> Self {
        LoadOptions {
            codex_home,
            overrides,
            system_config_file: Some(PathBuf::from(SYSTEM_CONFIG_FILE)),
            requirements_file: Some(PathBuf::from(SYSTEM_REQUIREMENTS_FILE)),
        }
    }

    /// `$CODEX_HOME/config.toml`, the only file writes may change.
    pub fn user_config_file(&self) -> PathBuf {
        self.codex_home.join(CONFIG_FILE)
    }

    /// Reads the layers; with `cwd`, the project layers between its root and it are included.
    pub fn load_layers(&self, cwd: Option<&Path>) -> Result<LayerStack, ConfigError> {
        let mut layers = Vec::new();
        if let Some(file) = &self.system_config_file {
            layers.push(file_layer(
                ConfigLayerSource::System { file: file.clone() },
                file,
            )?);
        }
        let user_file = self.user_config_file();
        layers.push(file_layer(
            ConfigLayerSource::User {
                file: user_file.clone(),
                profile: None,
            },
            &user_file,
        )?);
        let flags = (!self.overrides.is_empty()).then(|| {
            Layer::new(
                ConfigLayerSource::SessionFlags,
                overrides_table(&self.overrides),
                None,
            )
        });
        if let Some(cwd) = cwd {
            // Trust and root markers come from the layers below the project ones.
            let below = LayerStack {
                layers: layers.iter().cloned().chain(flags.clone()).collect(),
            };
            let effective = toml::Value::Table(below.effective());
            let (keys, _unknown): (ProjectKeys, _) =
                de::from_value(&effective).map_err(|e| below.locate(e, None))?;
            layers.extend(project_layers(cwd, &keys, &self.codex_home, &user_file)?);
        }
        layers.extend(flags);
        Ok(LayerStack { layers })
    }

    pub fn load_requirements(&self) -> Result<Option<Requirements>, ConfigError> {
        match &self.requirements_file {
            Some(file) => Requirements::load(file),
            None => Ok(None),
        }
    }
}

/// Whether any of these project layers changes something.
pub(crate) fn applies(project: &[Layer]) -> bool {
    project
        .iter()
        .any(|l| l.is_enabled() && !l.table.is_empty())
}

fn file_layer(source: ConfigLayerSource, file: &Path) -> Result<Layer, ConfigError> {
    Ok(match read_toml_file(file)? {
        Some((text, table)) => Layer::new(source, table, Some(text)),
        None => Layer::new(source, Table::new(), None),
    })
}

/// The loaded configuration. `raw` is the merged table of every layer; per-thread `config`
/// maps are laid over it by [`Config::settings`].
#[derive(Clone, Debug)]
pub struct Config {
    pub codex_home: PathBuf,
    pub raw: Table,
    options: LoadOptions,
    stack: Arc<LayerStack>,
    requirements: Option<Arc<Requirements>>,
    /// Root markers and project trust, read once: they decide a thread's project layers.
    project_keys: Arc<ProjectKeys>,
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
        Self::load_with(LoadOptions::new(codex_home, overrides))
    }

    /// Loads with explicit options (tests point the system files elsewhere).
    pub fn load_with(options: LoadOptions) -> Result<Config, ConfigError> {
        let stack = options.load_layers(None)?;
        let requirements = options.load_requirements()?;
        Self::from_parts(options, stack, requirements)
    }

    /// Builds and validates a configuration from already loaded parts.
    pub(crate) fn from_parts(
        options: LoadOptions,
        stack: LayerStack,
        requirements: Option<Requirements>,
    ) -> Result<Config, ConfigError> {
        let raw = stack.effective();
        let (project_keys, _unknown): (ProjectKeys, _) =
            de::from_value(&toml::Value::Table(raw.clone())).map_err(|e| stack.locate(e, None))?;
        let config = Config {
            codex_home: options.codex_home.clone(),
            raw,
            options,
            stack: Arc::new(stack),
            requirements: requirements.map(Arc::new),
            project_keys: Arc::new(project_keys),
        };
        // Validate eagerly so a bad value fails at start-up, not at the first turn.
        config.settings(&Table::new())?;
        Ok(config)
    }

    /// The resolved settings with a per-thread `config` map (`thread/start.config`) merged
    /// over the configuration.
    pub fn settings(&self, extra: &Table) -> Result<Settings, ConfigError> {
        let mut merged = self.raw.clone();
        merge_into(&mut merged, extra);
        self.resolver(&self.stack, extra).resolve(merged)
    }

    /// As [`Config::settings`], with the project layers of `cwd` (trusted projects'
    /// `.codex/config.toml`) between the user file and the `-c` overrides.
    pub fn settings_for_cwd(&self, cwd: &Path, extra: &Table) -> Result<Settings, ConfigError> {
        let project = self.project_layers(cwd)?;
        self.settings_with_project(project, extra)
    }

    /// As [`Config::settings`], with already discovered project layers.
    pub(crate) fn settings_with_project(
        &self,
        project: Vec<Layer>,
        extra: &Table,
    ) -> Result<Settings, ConfigError> {
        if !applies(&project) {
            return self.settings(extra);
        }
        let stack = self.stack.with_project_layers(project);
        let mut merged = stack.effective();
        merge_into(&mut merged, extra);
        self.resolver(&stack, extra).resolve(merged)
    }

    /// The project layers for a working directory (disabled ones included), read now.
    pub fn project_layers(&self, cwd: &Path) -> Result<Vec<Layer>, ConfigError> {
        project_layers(
            cwd,
            &self.project_keys,
            &self.codex_home,
            &self.options.user_config_file(),
        )
    }

    fn resolver<'a>(&'a self, stack: &'a LayerStack, extra: &'a Table) -> Resolver<'a> {
        Resolver {
            stack,
            overlay: (!extra.is_empty()).then_some(extra),
            requirements: self.requirements.as_deref(),
            read_files: true,
        }
    }

    pub fn layers(&self) -> &LayerStack {
        &self.stack
    }

    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    pub fn requirements(&self) -> Option<&Requirements> {
        self.requirements.as_deref()
    }
}

/// `$CODEX_HOME` (made absolute), else `$HOME/.codex`.
pub fn codex_home() -> Result<PathBuf, ConfigError> {
    if let Some(home) = std::env::var_os("CODEX_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(home);
        return Ok(std::path::absolute(&p).unwrap_or(p));
    }
    let home = std::env::var_os("HOME").ok_or(ConfigError::NoHome)?;
    Ok(PathBuf::from(home).join(".codex"))
}

/// The fuzzing entry point: resolves settings from the text of a `config.toml` alone, with no
/// other layer and no disk access (a configured instructions file is not read). Never panics;
/// any input gives settings or a [`ConfigError`].
pub fn settings_from_str(text: &str) -> Result<Settings, ConfigError> {
    let path = Path::new(CONFIG_FILE);
    let table = crate::layers::parse_toml(text, path)?;
    let stack = LayerStack {
        layers: vec![Layer::new(
            ConfigLayerSource::User {
                file: path.to_path_buf(),
                profile: None,
            },
            table,
            Some(Arc::from(text)),
        )],
    };
    Resolver {
        stack: &stack,
        overlay: None,
        requirements: None,
        read_files: false,
    }
    .resolve(stack.effective())
}
