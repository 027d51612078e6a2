//! Per-thread settings: resolved from configuration, changed by the settings a request
//! carries (`thread/start`, `resume`, `fork`, and `turn/start` overrides, which persist to
//! later turns), and reported back on the wire. [`Overlay`] is the one place where request
//! settings are applied, and where they are checked against the administrator's requirements.

use crate::config::{ConfigError, ConfigHandle, Requirements, Settings};
use crate::error::CoreError;
use codex_protocol::v2::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, ReasoningEffort, ReasoningSummary,
    SandboxMode, SandboxPolicy, ThreadStartParams, TurnStartParams,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    /// The configuration this thread was resolved from (the live configuration when it
    /// started, its project layers, its own `config` map): providers, context window,
    /// compaction. A later config write does not change a running thread.
    pub resolved: Arc<Settings>,
}

impl ThreadSettings {
    /// Defaults from configuration (read-only sandbox and on-request approvals when unset).
    pub fn from_config(settings: &Arc<Settings>, cwd: PathBuf) -> Result<Self, ConfigError> {
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
            resolved: settings.clone(),
        })
    }
}

/// How a request names the sandbox: a mode (thread-level params) or a full policy (turns).
#[derive(Clone, Copy, Debug)]
pub enum SandboxChoice<'a> {
    Mode(SandboxMode),
    Policy(&'a SandboxPolicy),
}

/// The settings one request asks to change; `None` keeps the current value.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overlay<'a> {
    /// Per-thread configuration entries: the settings are resolved again from the
    /// configuration with these on top (the working directory is kept).
    pub config: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub model: Option<&'a str>,
    pub model_provider: Option<&'a str>,
    pub cwd: Option<&'a str>,
    pub approval_policy: Option<&'a AskForApproval>,
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    pub sandbox: Option<SandboxChoice<'a>>,
    pub effort: Option<ReasoningEffort>,
    pub summary: Option<ReasoningSummary>,
    pub base_instructions: Option<&'a str>,
    pub developer_instructions: Option<&'a str>,
}

impl<'a> Overlay<'a> {
    /// The settings of `thread/start` (and of `thread/resume` / `thread/fork`, which carry the
    /// same fields).
    pub fn thread(p: &'a ThreadStartParams) -> Overlay<'a> {
        Overlay {
            config: p.config.as_ref(),
            model: p.model.as_deref(),
            model_provider: p.model_provider.as_deref(),
            cwd: p.cwd.as_deref(),
            approval_policy: p.approval_policy.as_ref(),
            approvals_reviewer: p.approvals_reviewer,
            sandbox: p.sandbox.map(SandboxChoice::Mode),
            effort: None,
            summary: None,
            base_instructions: p.base_instructions.as_deref(),
            developer_instructions: p.developer_instructions.as_deref(),
        }
    }

    /// The overrides of `turn/start`.
    pub fn turn(p: &'a TurnStartParams) -> Overlay<'a> {
        Overlay {
            config: None,
            model: p.model.as_deref(),
            model_provider: None,
            cwd: p.cwd.as_deref(),
            approval_policy: p.approval_policy.as_ref(),
            approvals_reviewer: p.approvals_reviewer,
            sandbox: p.sandbox_policy.as_ref().map(SandboxChoice::Policy),
            effort: p.effort,
            summary: p.summary,
            base_instructions: None,
            developer_instructions: None,
        }
    }

    /// Applies the overlay. A `config` map resolves the thread's settings again from the live
    /// configuration (`config`) and the project layers of its working directory, with the map's
    /// dotted keys on top; relative directories resolve against `base_dir`.
    ///
    /// # Errors
    /// An unknown provider, a `cwd` that is not a directory, a bad `config` entry, or an
    /// approval policy or sandbox the administrator's requirements do not allow.
    pub fn apply(
        &self,
        settings: &mut ThreadSettings,
        config: &ConfigHandle,
        base_dir: &Path,
    ) -> Result<(), CoreError> {
        if let Some(requirements) = config.config().requirements() {
            self.check_requirements(requirements)?;
        }
        if let Some(cwd) = self.cwd {
            settings.cwd = resolve_cwd(base_dir, cwd)?;
        }
        if let Some(map) = self.config {
            let extra = crate::config::table_from_json(map);
            let resolved = config.settings_for_thread(&settings.cwd, &extra)?;
            let cwd = settings.cwd.clone();
            *settings = ThreadSettings::from_config(&resolved, cwd)?;
        }
        let resolved = settings.resolved.clone();
        if let Some(model) = self.model {
            settings.model = model.to_string();
        }
        if let Some(provider) = self.model_provider {
            resolved.provider(provider)?;
            settings.provider_id = provider.to_string();
        }
        if let Some(policy) = self.approval_policy {
            settings.approval_policy = policy.clone();
        }
        if let Some(reviewer) = self.approvals_reviewer {
            settings.approvals_reviewer = reviewer;
        }
        match self.sandbox {
            Some(SandboxChoice::Mode(mode)) => {
                settings.sandbox = sandbox_policy_for(mode, &resolved)
            }
            Some(SandboxChoice::Policy(policy)) => settings.sandbox = policy.clone(),
            None => {}
        }
        if let Some(effort) = self.effort {
            settings.effort = Some(effort);
        }
        if let Some(summary) = self.summary {
            settings.summary = Some(summary);
        }
        if let Some(text) = self.base_instructions {
            settings.base_instructions = Some(text.to_string());
        }
        if let Some(text) = self.developer_instructions {
            settings.developer_instructions = Some(text.to_string());
        }
        Ok(())
    }

    /// The approval policy and sandbox this request names, against the administrator's
    /// requirements (configured values were checked when the configuration loaded).
    fn check_requirements(&self, requirements: &Requirements) -> Result<(), CoreError> {
        if let Some(policy) = self.approval_policy {
            crate::requirements::check_approval_policy(policy, requirements)?;
        }
        let requested = match self.sandbox {
            Some(SandboxChoice::Mode(mode)) => Some(("sandbox", mode)),
            Some(SandboxChoice::Policy(policy)) => {
                sandbox_mode_of(policy).map(|mode| ("sandboxPolicy", mode))
            }
            None => None,
        };
        if let Some((param, mode)) = requested {
            crate::requirements::check_sandbox_mode(param, mode, requirements)?;
        }
        Ok(())
    }
}

/// The mode of a sandbox policy. An external sandbox is the host's business, not a mode
/// requirements can list, so it has none.
fn sandbox_mode_of(policy: &SandboxPolicy) -> Option<SandboxMode> {
    match policy {
        SandboxPolicy::ReadOnly { .. } => Some(SandboxMode::ReadOnly),
        SandboxPolicy::WorkspaceWrite { .. } => Some(SandboxMode::WorkspaceWrite),
        SandboxPolicy::DangerFullAccess => Some(SandboxMode::DangerFullAccess),
        SandboxPolicy::ExternalSandbox { .. } => None,
    }
}

/// An absolute, existing directory for a `cwd` param.
///
/// # Errors
/// [`CoreError::InvalidParams`] naming the path when it is not a directory.
pub fn resolve_cwd(base_dir: &Path, cwd: &str) -> Result<PathBuf, CoreError> {
    let path = base_dir.join(cwd);
    if !path.is_dir() {
        return Err(CoreError::InvalidParams(format!(
            "cwd: {} is not a directory",
            path.display()
        )));
    }
    Ok(path)
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
        let base = Arc::new(Settings::from_table(&toml::Table::new()).unwrap());
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
