//! Usage errors of the command line and the helpers every grammar shares, kept apart from
//! the grammars themselves so `codex` and `codex exec` parse with the same wording.

use std::ffi::OsString;

/// A command line that cannot run. `usage` is the usage line of the command it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    pub message: String,
    pub usage: &'static str,
}

impl UsageError {
    pub fn new(message: impl Into<String>, usage: &'static str) -> Self {
        Self {
            message: message.into(),
            usage,
        }
    }

    /// Converts lexopt's error into our wording (clap's, which users of the official CLI know).
    pub fn from_lexopt(err: lexopt::Error, usage: &'static str) -> Self {
        let message = match err {
            lexopt::Error::UnexpectedOption(opt) => format!("unexpected argument '{opt}' found"),
            lexopt::Error::UnexpectedArgument(arg) => {
                format!("unexpected argument '{}' found", arg.to_string_lossy())
            }
            lexopt::Error::MissingValue { option: Some(opt) } => {
                format!("a value is required for '{opt}' but none was supplied")
            }
            lexopt::Error::UnexpectedValue { option, .. } => {
                format!("unexpected value for '{option}': it takes no value")
            }
            other => other.to_string(),
        };
        Self::new(message, usage)
    }
}

/// Reads a UTF-8 value for `option`.
pub fn string_value(
    raw: Result<OsString, lexopt::Error>,
    option: &str,
    usage: &'static str,
) -> Result<String, UsageError> {
    let raw = raw.map_err(|e| UsageError::from_lexopt(e, usage))?;
    raw.into_string().map_err(|raw| {
        UsageError::new(
            format!(
                "invalid value for '{option}': {} is not valid UTF-8",
                raw.to_string_lossy()
            ),
            usage,
        )
    })
}
