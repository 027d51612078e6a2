//! `configRequirements/read` and enforcement of requirements on loaded configuration.

use super::support::Home;
use serde_json::json;

#[test]
fn no_requirements_file_reads_as_null() {
    let home = Home::new();
    let r = home.handle(&[]).read_requirements().unwrap();
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        json!({"requirements": null, "supportsIndependentSpeedModes": true})
    );
}

#[test]
fn requirements_are_reported_in_the_official_shape() {
    let home = Home::new();
    let handle = home.handle(&[]);
    home.write(
        "etc/requirements.toml",
        r#"
        allowed_approval_policies = ["on-request", "never"]
        allowed_sandbox_modes = ["read-only", "workspace-write", "external-sandbox"]
        allowed_web_search_modes = ["cached"]
        enforce_residency = "us"
        something_newer = true
        [features]
        apps = false
        "#,
    );
    let r = handle.read_requirements().unwrap();
    assert_eq!(
        serde_json::to_value(r).unwrap(),
        json!({"requirements": {
            "allowedApprovalPolicies": ["on-request", "never"],
            "allowedSandboxModes": ["read-only", "workspace-write"],
            "allowedWebSearchModes": ["cached", "disabled"],
            "enforceResidency": "us",
            "featureRequirements": {"apps": false},
        }, "supportsIndependentSpeedModes": true})
    );
}

#[test]
fn a_configured_value_outside_the_requirements_fails_to_load() {
    let home = Home::new();
    home.write(
        "etc/requirements.toml",
        "allowed_sandbox_modes = [\"read-only\"]\n",
    );
    home.write_user("sandbox_mode = \"danger-full-access\"\n");
    let msg = home.load(&[]).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "{}:1: sandbox_mode: \"danger-full-access\" is not allowed by {}",
            home.user_file().display(),
            home.requirements_file().display()
        )
    );
    home.write_user("sandbox_mode = \"read-only\"\n");
    let config = home.load(&[]).unwrap();
    let requirements = config.requirements().unwrap();
    assert!(requirements.allows_sandbox_mode(codex_protocol::v2::SandboxMode::ReadOnly));
    assert!(!requirements.allows_sandbox_mode(codex_protocol::v2::SandboxMode::WorkspaceWrite));
}

#[test]
fn a_bad_requirements_file_names_itself() {
    let home = Home::new();
    let handle = home.handle(&[]);
    home.write(
        "etc/requirements.toml",
        "\nallowed_sandbox_modes = [\"sideways\"]\n",
    );
    let err = handle.read_requirements().unwrap_err();
    assert_eq!(err.to_rpc_error().code, -32603);
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: allowed_sandbox_modes.0: expected one of `read-only`, `workspace-write`, `danger-full-access`, `external-sandbox`, found `sideways`",
            home.requirements_file().display()
        )
    );
}
