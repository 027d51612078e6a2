//! Configuration: `config/read`, `config/value/write`, `config/batchWrite` and
//! `configRequirements/read`. Shapes follow the official 0.163 runtime: config keys stay
//! snake_case (they are `config.toml` keys), everything around them is camelCase.

use super::common::{
    ApprovalsReviewer, AskForApproval, ReasoningEffort, ReasoningSummary, SandboxMode,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigReadParams {
    /// Working directory whose project layers (`.codex/config.toml` between the project root and
    /// this directory) are included; without it the result is thread-agnostic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default)]
    pub include_layers: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigReadResponse {
    pub config: EffectiveConfig,
    /// Dotted key path (array elements by index) -> the layer whose value wins.
    pub origins: BTreeMap<String, ConfigLayerMetadata>,
    /// Every layer, highest precedence first; only with `includeLayers` (absent otherwise, as
    /// the official runtime answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<Vec<ConfigLayer>>,
}

/// The effective configuration: every key the merged layers set, spelled as in `config.toml`.
/// Serialized as a plain JSON object; the schema names the well-known keys and allows any other.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EffectiveConfig(pub Map<String, Value>);

// Schema-only twin of `EffectiveConfig`: names and types the keys clients commonly read.
/// The effective configuration, keys as in `config.toml`; keys not listed here may appear too.
#[derive(JsonSchema)]
#[schemars(rename = "Config")]
#[allow(dead_code)]
struct ConfigShape {
    approval_policy: Option<AskForApproval>,
    approvals_reviewer: Option<ApprovalsReviewer>,
    compact_prompt: Option<String>,
    developer_instructions: Option<String>,
    instructions: Option<String>,
    model: Option<String>,
    model_auto_compact_token_limit: Option<i64>,
    model_context_window: Option<i64>,
    model_provider: Option<String>,
    model_reasoning_effort: Option<ReasoningEffort>,
    model_reasoning_summary: Option<ReasoningSummary>,
    model_verbosity: Option<Verbosity>,
    review_model: Option<String>,
    sandbox_mode: Option<SandboxMode>,
    sandbox_workspace_write: Option<SandboxWorkspaceWrite>,
    service_tier: Option<String>,
    web_search: Option<WebSearchMode>,
    #[serde(flatten)]
    additional: BTreeMap<String, Value>,
}

impl JsonSchema for EffectiveConfig {
    fn schema_name() -> String {
        ConfigShape::schema_name()
    }

    fn json_schema(gen: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        ConfigShape::json_schema(gen)
    }
}

/// `[sandbox_workspace_write]` as `config/read` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SandboxWorkspaceWrite {
    #[serde(default)]
    pub writable_roots: Vec<String>,
    #[serde(default)]
    pub network_access: bool,
    #[serde(default)]
    pub exclude_tmpdir_env_var: bool,
    #[serde(default)]
    pub exclude_slash_tmp: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    Low,
    Medium,
    High,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WebSearchMode {
    Disabled,
    Cached,
    Indexed,
    Live,
}

/// Where a configuration layer comes from. Our runtime produces `system`, `user`, `project`
/// and `sessionFlags`; the others exist so clients can read any official answer too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ConfigLayerSource {
    #[schemars(title = "PackagedDefaultsConfigLayerSource")]
    PackagedDefaults { file: PathBuf },
    #[schemars(title = "MdmConfigLayerSource")]
    Mdm { domain: String, key: String },
    /// `/etc/codex/config.toml`, listed even when the file does not exist.
    #[schemars(title = "SystemConfigLayerSource")]
    System { file: PathBuf },
    #[schemars(title = "EnterpriseManagedConfigLayerSource")]
    EnterpriseManaged { id: String, name: String },
    /// `$CODEX_HOME/config.toml`, listed even when the file does not exist.
    #[schemars(title = "UserConfigLayerSource")]
    User {
        file: PathBuf,
        profile: Option<String>,
    },
    /// A `.codex/` folder between the project root and the working directory.
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "ProjectConfigLayerSource")]
    Project { dot_codex_folder: PathBuf },
    /// `-c key=value` overrides given on the command line.
    #[schemars(title = "SessionFlagsConfigLayerSource")]
    SessionFlags,
    #[schemars(title = "LegacyManagedConfigTomlFromFileConfigLayerSource")]
    LegacyManagedConfigTomlFromFile { file: PathBuf },
    #[schemars(title = "LegacyManagedConfigTomlFromMdmConfigLayerSource")]
    LegacyManagedConfigTomlFromMdm,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigLayerMetadata {
    pub name: ConfigLayerSource,
    /// `sha256:<hex>` of the layer's content (key order and formatting do not count); the
    /// `expectedVersion` a write compares against.
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigLayer {
    pub name: ConfigLayerSource,
    pub version: String,
    /// The layer's own keys as a JSON object.
    pub config: Value,
    /// Why the layer is ignored (an untrusted project); absent when it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
}

/// How a written value combines with what is there: `upsert` merges tables key by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    Replace,
    Upsert,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigValueWriteParams {
    /// Dotted key path, e.g. `model` or `sandbox_workspace_write.network_access`.
    pub key_path: String,
    /// The new value; `null` removes the key.
    pub value: Value,
    pub merge_strategy: MergeStrategy,
    /// Path to the config file to write; defaults to the user's `config.toml` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigEdit {
    pub key_path: String,
    pub value: Value,
    pub merge_strategy: MergeStrategy,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigBatchWriteParams {
    /// Applied in order, all or none.
    pub edits: Vec<ConfigEdit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<String>,
    /// Accepted for compatibility: new threads always see a write, loaded threads keep the
    /// settings they started with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload_user_config: Option<bool>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum WriteStatus {
    #[serde(rename = "ok")]
    Ok,
    /// Written, but a higher-precedence layer sets the same key, so the effective value differs.
    #[serde(rename = "okOverridden")]
    OkOverridden,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverriddenMetadata {
    pub message: String,
    pub overriding_layer: ConfigLayerMetadata,
    pub effective_value: Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigWriteResponse {
    pub status: WriteStatus,
    /// The user layer's version after the write.
    pub version: String,
    /// The file that was written.
    pub file_path: PathBuf,
    pub overridden_metadata: Option<OverriddenMetadata>,
}

/// `error.data.config_write_error_code` of a failed write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ConfigWriteErrorCode {
    ConfigLayerReadonly,
    ConfigVersionConflict,
    ConfigValidationError,
    ConfigPathNotFound,
    ConfigSchemaUnknownKey,
    UserLayerNotFound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResidencyRequirement {
    Us,
}

/// Constraints an administrator set in `requirements.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigRequirements {
    pub allowed_approval_policies: Option<Vec<AskForApproval>>,
    pub allowed_sandbox_modes: Option<Vec<SandboxMode>>,
    /// Always includes `disabled` when present.
    pub allowed_web_search_modes: Option<Vec<WebSearchMode>>,
    pub enforce_residency: Option<ResidencyRequirement>,
    /// Feature name -> the value it is pinned to.
    pub feature_requirements: Option<BTreeMap<String, bool>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigRequirementsReadResponse {
    /// Null when no requirements are configured.
    pub requirements: Option<ConfigRequirements>,
    /// Speed-mode requirements, when a newer `requirements.toml` has them, apply each on its own
    /// rather than through one shared gate.
    pub supports_independent_speed_modes: bool,
}
