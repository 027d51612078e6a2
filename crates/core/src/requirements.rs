//! The administrator's requirements (`/etc/codex/requirements.toml`) applied to what a request
//! asks for. Values from configuration files were checked when they were loaded; this checks
//! the approval policy and sandbox a `thread/start`, `thread/resume`, `thread/fork` or
//! `turn/start` names, so a client cannot step outside what the machine allows.

use crate::config::Requirements;
use crate::error::CoreError;
use codex_protocol::v2::{AskForApproval, SandboxMode};

/// Refuses an approval policy the requirements do not allow; the message names the parameter,
/// the value, the allowed values and the requirements file.
pub fn check_approval_policy(
    policy: &AskForApproval,
    requirements: &Requirements,
) -> Result<(), CoreError> {
    if requirements.allows_approval_policy(policy) {
        return Ok(());
    }
    let allowed = requirements
        .wire
        .allowed_approval_policies
        .as_deref()
        .unwrap_or_default();
    Err(refusal("approvalPolicy", policy, allowed, requirements))
}

/// Refuses a sandbox mode the requirements do not allow, for the parameter `param` that asked
/// for it (`sandbox` or `sandboxPolicy`).
pub fn check_sandbox_mode(
    param: &str,
    mode: SandboxMode,
    requirements: &Requirements,
) -> Result<(), CoreError> {
    if requirements.allows_sandbox_mode(mode) {
        return Ok(());
    }
    let allowed = requirements
        .wire
        .allowed_sandbox_modes
        .as_deref()
        .unwrap_or_default();
    Err(refusal(param, &mode, allowed, requirements))
}

fn refusal<T: serde::Serialize>(
    param: &str,
    value: &T,
    allowed: &[T],
    requirements: &Requirements,
) -> CoreError {
    let allowed: Vec<String> = allowed.iter().map(json_text).collect();
    CoreError::InvalidParams(format!(
        "{param}: {} is not allowed by {} (allowed: {})",
        json_text(value),
        requirements.file.display(),
        allowed.join(", ")
    ))
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use codex_protocol::v2::{ApprovalMode, ConfigRequirements};
    use std::path::PathBuf;

    fn requirements() -> Requirements {
        Requirements {
            file: PathBuf::from("/etc/codex/requirements.toml"),
            wire: ConfigRequirements {
                allowed_approval_policies: Some(vec![AskForApproval::Mode(
                    ApprovalMode::OnRequest,
                )]),
                allowed_sandbox_modes: Some(vec![SandboxMode::ReadOnly]),
                ..ConfigRequirements::default()
            },
        }
    }

    #[test]
    fn a_disallowed_policy_names_the_param_the_value_and_the_file() {
        let never = AskForApproval::Mode(ApprovalMode::Never);
        let err = check_approval_policy(&never, &requirements())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "approvalPolicy: \"never\" is not allowed by /etc/codex/requirements.toml \
             (allowed: \"on-request\")"
        );
        let on_request = AskForApproval::Mode(ApprovalMode::OnRequest);
        assert!(check_approval_policy(&on_request, &requirements()).is_ok());
    }

    #[test]
    fn a_disallowed_sandbox_names_the_param_that_asked_for_it() {
        let err = check_sandbox_mode(
            "sandboxPolicy",
            SandboxMode::DangerFullAccess,
            &requirements(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("sandboxPolicy: \"danger-full-access\""),
            "{err}"
        );
        assert!(check_sandbox_mode("sandbox", SandboxMode::ReadOnly, &requirements()).is_ok());
    }
}
