//! Configuration lives in the `codex-config` crate; this module keeps core's existing paths
//! (`codex_core::config::Config`, `Settings`, `-c` override parsing) pointing at it.

pub use codex_config::{
    apply_override, parse_overrides, parse_value, table_from_json, Config, ConfigError,
    ConfigHandle, ConfigServiceError, LoadOptions, Override, Requirements, Settings, DEFAULT_MODEL,
};
