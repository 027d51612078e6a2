//! Errors: [`ConfigError`] for loading (each names the file, the line when known, the key and
//! what is wrong), [`ConfigServiceError`] for the `config/*` operations, which knows its
//! JSON-RPC answer.

use crate::de::Problem;
use codex_protocol::jsonrpc::{error_codes, JsonRpcErrorBody};
use codex_protocol::v2::ConfigWriteErrorCode;
use std::fmt;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    /// Not TOML at all.
    #[error("{path}:{line}: {reason}")]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// TOML, but a key has a value of the wrong type or outside its allowed set.
    #[error("{source_name}{}: {key}: {problem}", Line(*.line))]
    Invalid {
        /// The file (or `-c overrides`, `thread config`) the bad value came from.
        source_name: String,
        line: Option<usize>,
        key: String,
        problem: Problem,
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
}

struct Line(Option<usize>);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ":{line}"),
            None => Ok(()),
        }
    }
}

/// A failed `config/*` operation.
#[derive(Debug, Error)]
pub enum ConfigServiceError {
    /// A write refused for a reason the client can act on; `code` goes to
    /// `error.data.config_write_error_code`.
    #[error("{message}")]
    Write {
        code: ConfigWriteErrorCode,
        message: String,
    },
    #[error("invalid cwd {cwd:?}: {reason}")]
    InvalidCwd { cwd: String, reason: String },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{context} {path}: {source}")]
    Io {
        context: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ConfigServiceError {
    pub(crate) fn write(code: ConfigWriteErrorCode, message: impl Into<String>) -> Self {
        ConfigServiceError::Write {
            code,
            message: message.into(),
        }
    }

    /// The write error code, when this is a refused write.
    pub fn write_error_code(&self) -> Option<ConfigWriteErrorCode> {
        match self {
            ConfigServiceError::Write { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The JSON-RPC error the official runtime answers: refused writes are invalid requests
    /// carrying `data.config_write_error_code`; a bad `cwd` is an invalid parameter; a broken
    /// configuration on disk or an I/O failure is an internal error.
    pub fn to_rpc_error(&self) -> JsonRpcErrorBody {
        match self {
            ConfigServiceError::Write { code, message } => {
                JsonRpcErrorBody::new(error_codes::INVALID_REQUEST, message.clone())
                    .with_data(serde_json::json!({ "config_write_error_code": code }))
            }
            ConfigServiceError::InvalidCwd { .. } => {
                JsonRpcErrorBody::invalid_params(self.to_string())
            }
            ConfigServiceError::Config(_) | ConfigServiceError::Io { .. } => {
                JsonRpcErrorBody::internal(self.to_string())
            }
        }
    }
}
