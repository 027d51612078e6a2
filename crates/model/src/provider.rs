//! Model providers: what the client needs to reach one (`ProviderInfo`) and the built-ins
//! (`openai`, `oss`). Reading `[model_providers.<id>]` tables is `codex-config`'s job.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

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

/// One provider: a built-in, or a `[model_providers.<id>]` entry resolved by `codex-config`.
/// Comparable, so a cached client can tell that its provider's definition changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderInfo {
    /// The `[model_providers.<id>]` key.
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
