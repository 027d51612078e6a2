//! Configuration lives in the `codex-config` crate; this module keeps core's existing paths
//! (`codex_core::config::Config`, `Settings`, `-c` override parsing) pointing at it.

pub use codex_config::{
    apply_override, parse_overrides, parse_value, Config, ConfigError, ConfigHandle, Override,
    Settings, DEFAULT_MODEL,
};
