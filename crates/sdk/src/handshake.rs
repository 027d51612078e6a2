//! The `initialize` handshake: what the client sends and what it makes of the answer.
//!
//! The answer is read leniently, as the Python SDK reads it: the official server sends no
//! `serverInfo`, so the server's name and version come from `userAgent`
//! (`name/version rest…`) when `serverInfo` is absent.

use crate::config::CodexConfig;
use crate::error::Error;
use codex_protocol::v2::{ClientInfo, InitializeCapabilities, InitializeParams};
use serde_json::Value;
use std::path::PathBuf;

/// What the server told us about itself in `initialize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// `userAgent`: the server's originator, version and platform.
    pub user_agent: String,
    /// The server's `$CODEX_HOME`.
    pub codex_home: Option<PathBuf>,
    /// `unix` or `windows`.
    pub platform_family: Option<String>,
    /// `linux`, `macos` or `windows`.
    pub platform_os: Option<String>,
    /// The server's name (`serverInfo.name`, else the start of `userAgent`).
    pub server_name: String,
    /// The server's version (`serverInfo.version`, else from `userAgent`).
    pub server_version: String,
}

pub(crate) fn initialize_params(config: &CodexConfig) -> InitializeParams {
    InitializeParams {
        client_info: ClientInfo {
            name: config.client_name.clone(),
            title: Some(config.client_title.clone()),
            version: config.client_version.clone(),
        },
        capabilities: Some(InitializeCapabilities {
            experimental_api: config.experimental_api,
            opt_out_notification_methods: Vec::new(),
        }),
    }
}

/// `name/version rest` → (name, "version rest"); a whitespace split as the fallback.
fn split_user_agent(user_agent: &str) -> (Option<String>, Option<String>) {
    let text = user_agent.trim();
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if let Some((name, version)) = text.split_once('/') {
        return (non_empty(name), non_empty(version));
    }
    match text.split_once(char::is_whitespace) {
        Some((name, rest)) => (non_empty(name), non_empty(rest.trim())),
        None => (non_empty(text), None),
    }
}

/// Reads the `initialize` result.
///
/// # Errors
/// [`Error::Protocol`] when no user agent, server name or version can be found.
pub(crate) fn parse_initialize(result: &Value) -> Result<Metadata, Error> {
    let text = |key: &str| {
        result
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let info = |key: &str| {
        result
            .get("serverInfo")
            .and_then(|i| i.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let user_agent = text("userAgent").unwrap_or_default();
    let (ua_name, ua_version) = split_user_agent(&user_agent);
    let server_name = info("name").or(ua_name);
    let server_version = info("version").or(ua_version);
    let (Some(server_name), Some(server_version), false) =
        (server_name, server_version, user_agent.is_empty())
    else {
        return Err(Error::Protocol(format!(
            "initialize answer lacks the server's metadata (userAgent {user_agent:?}): {result}"
        )));
    };
    Ok(Metadata {
        user_agent,
        codex_home: text("codexHome").map(PathBuf::from),
        platform_family: text("platformFamily"),
        platform_os: text("platformOs"),
        server_name,
        server_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_info_wins_and_the_user_agent_fills_in_for_the_official_server() {
        let ours = parse_initialize(&json!({
            "userAgent": "codex_rust_sdk/0.163.0 (Linux; x86_64)", "codexHome": "/h",
            "platformFamily": "unix", "platformOs": "linux",
            "serverInfo": {"name": "codex-rs-lean", "version": "0.163.0"}
        }))
        .unwrap();
        assert_eq!(
            (ours.server_name.as_str(), ours.server_version.as_str()),
            ("codex-rs-lean", "0.163.0")
        );
        assert_eq!(ours.codex_home, Some(PathBuf::from("/h")));
        let official = parse_initialize(&json!({
            "userAgent": "codex_rust_sdk/0.163.0 (Ubuntu 24.4.0; x86_64) unknown (codex_rust_sdk; 0.163.0)",
            "codexHome": "/h", "platformFamily": "unix", "platformOs": "linux"
        }))
        .unwrap();
        assert_eq!(official.server_name, "codex_rust_sdk");
        assert!(official.server_version.starts_with("0.163.0 "));
    }

    #[test]
    fn an_answer_without_metadata_is_a_protocol_error() {
        assert!(matches!(
            parse_initialize(&json!({"codexHome": "/h"})),
            Err(Error::Protocol(_))
        ));
        assert!(matches!(
            parse_initialize(&json!({"userAgent": "   "})),
            Err(Error::Protocol(_))
        ));
        let spaced = parse_initialize(&json!({"userAgent": "server 1.2"})).unwrap();
        assert_eq!(
            (spaced.server_name.as_str(), spaced.server_version.as_str()),
            ("server", "1.2")
        );
    }
}
