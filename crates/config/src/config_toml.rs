//! The typed view of `config.toml`: the keys this runtime reads, with their types, enums and
//! defaults. Keys not listed here are tolerated (logged at debug level) because users carry
//! config files between versions and between this runtime and the official one.

use codex_model::WireApi;
use codex_protocol::v2::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, GranularApproval, ReasoningEffort,
    ReasoningSummary, SandboxMode,
};
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ConfigToml {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    pub model_providers: BTreeMap<String, ProviderToml>,
    pub approval_policy: Option<ApprovalPolicy>,
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    pub sandbox_mode: Option<SandboxMode>,
    pub sandbox_workspace_write: SandboxWorkspaceWriteToml,
    pub model_reasoning_effort: Option<ReasoningEffort>,
    pub model_reasoning_summary: Option<ReasoningSummary>,
    pub base_instructions: Option<String>,
    /// Replaces the base instructions with the file's content.
    pub model_instructions_file: Option<PathBuf>,
    /// Older spelling of `model_instructions_file`.
    pub experimental_instructions_file: Option<PathBuf>,
    pub developer_instructions: Option<String>,
    pub model_context_window: Option<i64>,
    pub model_auto_compact_token_limit: Option<i64>,
    pub compact_prompt: Option<String>,
    pub project_doc_max_bytes: Option<usize>,
    /// Files or folders whose presence marks a project root (default `.git`); an empty list
    /// turns root detection off.
    pub project_root_markers: Option<Vec<String>>,
    /// `[projects."<absolute path>"]`: per-project trust, which decides whether the project's
    /// `.codex/config.toml` applies.
    pub projects: BTreeMap<String, ProjectToml>,
    pub app_server: AppServerToml,
    /// `[thread_store]`: which backend keeps the threads (embedded files or PostgreSQL).
    pub thread_store: codex_store::ThreadStoreConfig,
}

/// One `[model_providers.<id>]` table. Every key is optional because a table for a built-in
/// provider (`openai`, `oss`) overrides only the keys it names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProviderToml {
    pub name: Option<String>,
    pub base_url: Option<String>,
    pub env_key: Option<String>,
    pub env_key_instructions: Option<String>,
    pub experimental_bearer_token: Option<String>,
    pub wire_api: Option<WireApi>,
    pub query_params: Option<BTreeMap<String, String>>,
    pub http_headers: Option<BTreeMap<String, String>>,
    pub env_http_headers: Option<BTreeMap<String, String>>,
    pub request_max_retries: Option<u32>,
    pub stream_max_retries: Option<u32>,
    pub stream_idle_timeout_ms: Option<u64>,
    pub requires_openai_auth: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SandboxWorkspaceWriteToml {
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProjectToml {
    pub trust_level: Option<TrustLevel>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrustLevel {
    Trusted,
    Untrusted,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppServerToml {
    /// Longest accepted input line in bytes.
    pub max_line_bytes: Option<usize>,
    /// Longest response sent for `thread/read` and `thread/resume`, in bytes.
    pub max_response_bytes: Option<usize>,
    /// Messages queued for one client before it is dropped as too slow.
    pub max_queued_messages: Option<usize>,
}

/// `approval_policy`: a mode name (`untrusted`, `on-failure`, `on-request`, `never`) or
/// `{ granular = { ... } }`. Written by hand so a wrong name lists the valid ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalPolicy(pub AskForApproval);

impl<'de> Deserialize<'de> for ApprovalPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ApprovalPolicyVisitor)
    }
}

struct ApprovalPolicyVisitor;

#[derive(Deserialize)]
struct GranularOnly {
    granular: GranularApproval,
}

impl<'de> Visitor<'de> for ApprovalPolicyVisitor {
    type Value = ApprovalPolicy;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an approval mode name or a `granular` table")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<ApprovalPolicy, E> {
        let mode = ApprovalMode::deserialize(name.into_deserializer())?;
        Ok(ApprovalPolicy(AskForApproval::Mode(mode)))
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<ApprovalPolicy, M::Error> {
        let GranularOnly { granular } =
            GranularOnly::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(ApprovalPolicy(AskForApproval::Granular { granular }))
    }
}
