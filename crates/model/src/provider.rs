//! Model providers: the built-ins (`openai`, `oss`) and user `[model_providers.<id>]` tables,
//! which override built-in fields key by key.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::error::ModelError;

/// Default API base of the built-in `openai` provider.
pub const OPENAI_DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
const DEFAULT_REQUEST_MAX_RETRIES: u32 = 4;
const DEFAULT_STREAM_MAX_RETRIES: u32 = 5;
const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;
/// Upper bound for both retry settings; more would keep a dead turn alive for hours.
const MAX_RETRIES_CAP: u32 = 100;

/// Which HTTP API the provider speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// `POST {base_url}/responses` (OpenAI Responses API).
    #[default]
    Responses,
    /// `POST {base_url}/chat/completions` (Chat Completions, legacy and OSS servers).
    Chat,
}

/// One `[model_providers.<id>]` entry.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProviderInfo {
    /// The table key; not part of the table itself.
    #[serde(skip)]
    pub id: String,
    pub name: Option<String>,
    pub base_url: Option<String>,
    /// Environment variable holding the API key.
    pub env_key: Option<String>,
    /// Help shown when `env_key` is required but unset.
    pub env_key_instructions: Option<String>,
    /// A literal bearer token (discouraged; env_key is preferred).
    pub experimental_bearer_token: Option<String>,
    pub wire_api: WireApi,
    pub query_params: BTreeMap<String, String>,
    pub http_headers: BTreeMap<String, String>,
    /// Header name -> environment variable; sent only when the variable is non-empty.
    pub env_http_headers: BTreeMap<String, String>,
    pub request_max_retries: Option<u32>,
    pub stream_max_retries: Option<u32>,
    pub stream_idle_timeout_ms: Option<u64>,
    pub requires_openai_auth: bool,
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ProviderInfo {
    /// The built-in `openai` provider; `OPENAI_BASE_URL` overrides its base URL.
    pub fn builtin_openai() -> Self {
        ProviderInfo {
            id: "openai".to_string(),
            name: Some("OpenAI".to_string()),
            base_url: Some(
                non_empty_env("OPENAI_BASE_URL")
                    .unwrap_or_else(|| OPENAI_DEFAULT_BASE_URL.to_string()),
            ),
            wire_api: WireApi::Responses,
            http_headers: BTreeMap::from([(
                "version".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            )]),
            env_http_headers: BTreeMap::from([
                (
                    "OpenAI-Organization".to_string(),
                    "OPENAI_ORGANIZATION".to_string(),
                ),
                ("OpenAI-Project".to_string(), "OPENAI_PROJECT".to_string()),
            ]),
            requires_openai_auth: true,
            ..ProviderInfo::default()
        }
    }

    /// The built-in `oss` provider: a local OpenAI-compatible server (Ollama style).
    /// `CODEX_OSS_BASE_URL`, else `http://localhost:$CODEX_OSS_PORT/v1` (port 11434).
    pub fn builtin_oss() -> Self {
        let base_url = non_empty_env("CODEX_OSS_BASE_URL").unwrap_or_else(|| {
            let port = non_empty_env("CODEX_OSS_PORT")
                .and_then(|p| p.trim().parse::<u16>().ok())
                .unwrap_or(11434);
            format!("http://localhost:{port}/v1")
        });
        ProviderInfo {
            id: "oss".to_string(),
            name: Some("gpt-oss".to_string()),
            base_url: Some(base_url),
            wire_api: WireApi::Chat,
            ..ProviderInfo::default()
        }
    }

    /// Parses one `[model_providers.<id>]` table.
    pub fn from_config(id: &str, table: &toml::Table) -> Result<Self, ModelError> {
        let mut info: ProviderInfo = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e| ModelError::Config(format!("model_providers.{id}: {e}")))?;
        info.id = id.to_string();
        info.validate()?;
        Ok(info)
    }

    fn validate(&self) -> Result<(), ModelError> {
        if let Some(url) = &self.base_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ModelError::Config(format!(
                    "model_providers.{}: base_url must start with http:// or https://, got {url:?}",
                    self.id
                )));
            }
        }
        Ok(())
    }

    /// Applies the keys present in a user table on top of this (built-in) provider.
    fn overridden_by(mut self, user: ProviderInfo, table: &toml::Table) -> ProviderInfo {
        let has = |key: &str| table.contains_key(key);
        macro_rules! take {
            ($($field:ident),*) => {$(
                if has(stringify!($field)) {
                    self.$field = user.$field;
                }
            )*};
        }
        take!(
            name,
            base_url,
            env_key,
            env_key_instructions,
            experimental_bearer_token,
            wire_api,
            query_params,
            http_headers,
            env_http_headers,
            request_max_retries,
            stream_max_retries,
            stream_idle_timeout_ms,
            requires_openai_auth
        );
        self
    }

    /// Base URL without a trailing slash (`openai` default when unset).
    pub fn base_url(&self) -> String {
        self.base_url
            .as_deref()
            .unwrap_or(OPENAI_DEFAULT_BASE_URL)
            .trim_end_matches('/')
            .to_string()
    }

    /// Connect/HTTP-layer retries (default 4, at most 100).
    pub fn request_retries(&self) -> u32 {
        self.request_max_retries
            .unwrap_or(DEFAULT_REQUEST_MAX_RETRIES)
            .min(MAX_RETRIES_CAP)
    }

    /// Stream-layer retries (default 5, at most 100).
    pub fn stream_retries(&self) -> u32 {
        self.stream_max_retries
            .unwrap_or(DEFAULT_STREAM_MAX_RETRIES)
            .min(MAX_RETRIES_CAP)
    }

    /// Longest silence tolerated while waiting for response bytes (default 300 s).
    pub fn stream_idle_timeout(&self) -> Duration {
        Duration::from_millis(
            self.stream_idle_timeout_ms
                .unwrap_or(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
        )
    }

    /// Display name, falling back to the id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    /// Static headers plus env-sourced headers whose variable is set and non-empty.
    pub fn resolved_headers(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .http_headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (header, var) in &self.env_http_headers {
            if let Some(value) = non_empty_env(var) {
                headers.push((header.clone(), value));
            }
        }
        headers
    }
}

/// Built-in providers overridden (key by key) by the `[model_providers.<id>]` tables of the
/// merged config; unknown ids are added.
pub fn providers_from_config(
    config: &toml::Table,
) -> Result<BTreeMap<String, ProviderInfo>, ModelError> {
    let mut providers = BTreeMap::from([
        ("openai".to_string(), ProviderInfo::builtin_openai()),
        ("oss".to_string(), ProviderInfo::builtin_oss()),
    ]);
    let Some(section) = config.get("model_providers") else {
        return Ok(providers);
    };
    let section = section
        .as_table()
        .ok_or_else(|| ModelError::Config("model_providers must be a table".to_string()))?;
    for (id, value) in section {
        let table = value
            .as_table()
            .ok_or_else(|| ModelError::Config(format!("model_providers.{id} must be a table")))?;
        let user = ProviderInfo::from_config(id, table)?;
        let merged = match providers.remove(id) {
            Some(builtin) => builtin.overridden_by(user, table),
            None => user,
        };
        providers.insert(id.clone(), merged);
    }
    Ok(providers)
}
