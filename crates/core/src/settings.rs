//! Per-thread settings: resolved from configuration and `thread/start` params, changed by
//! `turn/start` overrides (which persist to later turns), and reported back on the wire.

use crate::config::{ConfigError, Settings};
use codex_protocol::v2::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, ReasoningEffort, ReasoningSummary,
    SandboxMode, SandboxPolicy,
};
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct ThreadSettings {
    pub model: String,
    pub provider_id: String,
    pub cwd: PathBuf,
    pub approval_policy: AskForApproval,
    pub approvals_reviewer: ApprovalsReviewer,
    pub sandbox: SandboxPolicy,
    pub effort: Option<ReasoningEffort>,
    pub summary: Option<ReasoningSummary>,
    pub base_instructions: Option<String>,
    pub developer_instructions: Option<String>,
}

impl ThreadSettings {
    /// Defaults from configuration (read-only sandbox and on-request approvals when unset).
    pub fn from_config(settings: &Settings, cwd: PathBuf) -> Result<Self, ConfigError> {
        let approval_policy = match settings.approval_policy.as_deref() {
            None => AskForApproval::Mode(ApprovalMode::OnRequest),
            Some(s) => parse_enum::<AskForApproval>("approval_policy", s)?,
        };
        let mode = match settings.sandbox_mode.as_deref() {
            None => SandboxMode::ReadOnly,
            Some(s) => parse_enum::<SandboxMode>("sandbox_mode", s)?,
        };
        let effort = settings
            .reasoning_effort
            .as_deref()
            .map(|s| parse_enum::<ReasoningEffort>("model_reasoning_effort", s))
            .transpose()?;
        let summary = settings
            .reasoning_summary
            .as_deref()
            .map(|s| parse_enum::<ReasoningSummary>("model_reasoning_summary", s))
            .transpose()?;
        Ok(ThreadSettings {
            model: settings
                .model
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_MODEL.to_string()),
            provider_id: settings.model_provider.clone(),
            cwd,
            approval_policy,
            approvals_reviewer: ApprovalsReviewer::User,
            sandbox: sandbox_policy_for(mode, settings),
            effort,
            summary,
            base_instructions: settings.base_instructions.clone(),
            developer_instructions: settings.developer_instructions.clone(),
        })
    }
}

/// Expands a thread-level sandbox mode into the policy object, with configured extras.
pub fn sandbox_policy_for(mode: SandboxMode, settings: &Settings) -> SandboxPolicy {
    match mode {
        SandboxMode::ReadOnly => SandboxPolicy::ReadOnly {
            network_access: false,
        },
        SandboxMode::DangerFullAccess => SandboxPolicy::DangerFullAccess,
        SandboxMode::WorkspaceWrite => SandboxPolicy::WorkspaceWrite {
            writable_roots: settings.writable_roots.clone(),
            network_access: settings.network_access,
            exclude_tmpdir_env_var: settings.exclude_tmpdir_env_var,
            exclude_slash_tmp: settings.exclude_slash_tmp,
        },
    }
}

fn parse_enum<T: serde::de::DeserializeOwned>(key: &str, value: &str) -> Result<T, ConfigError> {
    serde_json::from_value(serde_json::Value::String(value.to_string())).map_err(|_| {
        ConfigError::Value {
            key: key.into(),
            reason: format!("unknown value {value:?}"),
        }
    })
}

/// The rollout spelling of a sandbox policy (kebab-case `type`, as the official files use).
pub fn sandbox_policy_rollout(policy: &SandboxPolicy) -> serde_json::Value {
    match policy {
        SandboxPolicy::DangerFullAccess => serde_json::json!({"type": "danger-full-access"}),
        SandboxPolicy::ReadOnly { .. } => serde_json::json!({"type": "read-only"}),
        SandboxPolicy::ExternalSandbox { .. } => serde_json::json!({"type": "external-sandbox"}),
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            ..
        } => serde_json::json!({
            "type": "workspace-write",
            "writable_roots": writable_roots,
            "network_access": network_access,
        }),
    }
}

/// The approval policy as one word, for rollouts and the environment context.
pub fn approval_policy_name(policy: &AskForApproval) -> &'static str {
    match policy {
        AskForApproval::Mode(ApprovalMode::Untrusted) => "untrusted",
        AskForApproval::Mode(ApprovalMode::OnFailure) => "on-failure",
        AskForApproval::Mode(ApprovalMode::OnRequest) => "on-request",
        AskForApproval::Mode(ApprovalMode::Never) => "never",
        AskForApproval::Granular { .. } => "granular",
    }
}
