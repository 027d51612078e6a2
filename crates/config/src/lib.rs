//! Configuration: loading `config.toml` layers into typed settings, and the `config/*`
//! operations that read and edit them.
//!
//! # Layout
//! - [`config`]: [`Config`] (the loaded layers, validated) and [`LoadOptions`]; also
//!   [`settings_from_str`], the pure entry point for fuzzing.
//! - [`handle`]: [`ConfigHandle`], the live value threads read at start; writes swap it.
//! - `service`: `config/read`, `config/value/write`, `config/batchWrite`,
//!   `configRequirements/read` as methods on [`ConfigHandle`].
//! - `layers` (system, user, `-c` overrides) and `project` (trusted `.codex/` folders):
//!   where values come from, their versions and origins.
//! - `config_toml`: the typed keys (serde, defaults, enums); add a key there and map it in
//!   `settings`. `providers`: `[model_providers]` over the built-ins. `requirements`:
//!   `/etc/codex/requirements.toml`.
//! - `de`: the deserializer behind every typed read, which names the key, expected type and
//!   found type of a bad value; `layers` adds the file and line.
//! - `overrides`: `-c key=value` and dotted key paths. `edit`: format-preserving edits and
//!   atomic replacement of `config.toml`. `convert`, `fingerprint`: helpers.

pub mod config;
mod config_toml;
mod convert;
mod de;
mod edit;
mod error;
mod fingerprint;
pub mod handle;
mod layers;
mod overrides;
mod project;
mod providers;
mod requirements;
mod service;
mod settings;

pub use config::{codex_home, settings_from_str, Config, LoadOptions, SYSTEM_CONFIG_FILE};
pub use config_toml::TrustLevel;
pub use de::Problem;
pub use error::{ConfigError, ConfigServiceError};
pub use handle::ConfigHandle;
pub use layers::{Layer, LayerStack, CONFIG_FILE};
pub use overrides::{
    apply_override, overrides_table, parse_key_path, parse_overrides, parse_value, table_from_json,
    Override,
};
pub use requirements::{Requirements, SYSTEM_REQUIREMENTS_FILE};
pub use settings::{
    Settings, DEFAULT_MODEL, DEFAULT_MODEL_PROVIDER, DEFAULT_PROJECT_DOC_MAX_BYTES,
};
