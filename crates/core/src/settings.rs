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
        let mode = settings.sandbox_mode.unwrap_or(SandboxMode::ReadOnly);
        Ok(ThreadSettings {
            model: settings
                .model
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_MODEL.to_string()),
            provider_id: settings.model_provider.clone(),
            cwd,
            approval_policy: settings
                .approval_policy
                .clone()
                .unwrap_or(AskForApproval::Mode(ApprovalMode::OnRequest)),
            approvals_reviewer: settings
                .approvals_reviewer
                .unwrap_or(ApprovalsReviewer::User),
            sandbox: sandbox_policy_for(mode, settings),
            effort: settings.reasoning_effort,
            summary: settings.reasoning_summary,
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

/// The rollout spelling of a sandbox policy (kebab-case `type`, as the official files use).
pub fn sandbox_policy_rollout(policy: &SandboxPolicy) -> serde_json::Value {
    match policy {
        SandboxPolicy::DangerFullAccess => serde_json::json!({"type": "danger-full-access"}),
        SandboxPolicy::ReadOnly { .. } => serde_json::json!({"type": "read-only"}),
        SandboxPolicy::ExternalSandbox { .. } => serde_json::json!({"type": "external-sandbox"}),
        SandboxPolicy::WorkspaceWrite {
            writable_roots,
            network_access,
            exclude_tmpdir_env_var,
            exclude_slash_tmp,
        } => serde_json::json!({
            "type": "workspace-write",
            "writable_roots": writable_roots,
            "network_access": network_access,
            "exclude_tmpdir_env_var": exclude_tmpdir_env_var,
            "exclude_slash_tmp": exclude_slash_tmp,
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

/// Reads back the approval policy and sandbox a `turn_context` line recorded, so a thread
/// reloaded from disk runs with the permissions it last ran with, not the config defaults.
pub fn apply_turn_context(settings: &mut ThreadSettings, ctx: &serde_json::Value) {
    if let Some(policy) = ctx["approval_policy"]
        .as_str()
        .and_then(|p| serde_json::from_value::<AskForApproval>(serde_json::json!(p)).ok())
    {
        settings.approval_policy = policy;
    }
    let sandbox = &ctx["sandbox_policy"];
    let network = sandbox["network_access"].as_bool().unwrap_or(false);
    let policy = match sandbox["type"].as_str() {
        Some("danger-full-access") => Some(SandboxPolicy::DangerFullAccess),
        Some("read-only") => Some(SandboxPolicy::ReadOnly {
            network_access: network,
        }),
        Some("workspace-write") => Some(SandboxPolicy::WorkspaceWrite {
            writable_roots: sandbox["writable_roots"]
                .as_array()
                .map(|roots| {
                    roots
                        .iter()
                        .filter_map(|r| r.as_str().map(PathBuf::from))
                        .collect()
                })
                .unwrap_or_default(),
            network_access: network,
            exclude_tmpdir_env_var: sandbox["exclude_tmpdir_env_var"].as_bool().unwrap_or(false),
            exclude_slash_tmp: sandbox["exclude_slash_tmp"].as_bool().unwrap_or(false),
        }),
        _ => None,
    };
    if let Some(policy) = policy {
        settings.sandbox = policy;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_context_round_trips_permissions() {
        let base = Settings::from_table(&toml::Table::new()).unwrap();
        let mut written = ThreadSettings::from_config(&base, PathBuf::from("/w")).unwrap();
        written.approval_policy = AskForApproval::Mode(ApprovalMode::Never);
        written.sandbox = SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![PathBuf::from("/extra")],
            network_access: true,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: false,
        };
        let ctx = crate::rollout::turn_context("t", &written).payload;
        let mut read = ThreadSettings::from_config(&base, PathBuf::from("/w")).unwrap();
        apply_turn_context(&mut read, &ctx);
        assert_eq!(read.approval_policy, written.approval_policy);
        assert_eq!(read.sandbox, written.sandbox);
    }
}
