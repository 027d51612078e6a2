//! Administrator requirements (`/etc/codex/requirements.toml`): the approval policies and
//! sandbox modes a configuration may choose, and what `configRequirements/read` reports.
//! Configured values outside the allowed sets fail to load, naming the requirements file.

use crate::config_toml::ApprovalPolicy;
use crate::de::{self, DeError, Problem};
use crate::error::ConfigError;
use crate::layers::read_toml_file;
use codex_protocol::v2::{
    AskForApproval, ConfigRequirements, ResidencyRequirement, SandboxMode, WebSearchMode,
};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where the official runtime reads requirements on Unix.
pub const SYSTEM_REQUIREMENTS_FILE: &str = "/etc/codex/requirements.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RequirementsToml {
    allowed_approval_policies: Option<Vec<ApprovalPolicy>>,
    allowed_sandbox_modes: Option<Vec<SandboxModeRequirement>>,
    allowed_web_search_modes: Option<Vec<WebSearchMode>>,
    enforce_residency: Option<ResidencyRequirement>,
    #[serde(alias = "feature_requirements")]
    features: Option<BTreeMap<String, bool>>,
}

/// `external-sandbox` may be allowed in requirements although `config.toml` cannot select it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum SandboxModeRequirement {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
    ExternalSandbox,
}

impl SandboxModeRequirement {
    fn mode(self) -> Option<SandboxMode> {
        match self {
            SandboxModeRequirement::ReadOnly => Some(SandboxMode::ReadOnly),
            SandboxModeRequirement::WorkspaceWrite => Some(SandboxMode::WorkspaceWrite),
            SandboxModeRequirement::DangerFullAccess => Some(SandboxMode::DangerFullAccess),
            SandboxModeRequirement::ExternalSandbox => None,
        }
    }
}

/// Loaded requirements with the file they came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirements {
    pub file: PathBuf,
    pub wire: ConfigRequirements,
}

impl Requirements {
    /// Reads a requirements file; `None` when it does not exist or sets nothing.
    pub fn load(file: &Path) -> Result<Option<Requirements>, ConfigError> {
        let Some((text, table)) = read_toml_file(file)? else {
            return Ok(None);
        };
        let value = toml::Value::Table(table);
        let (parsed, unknown) = de::from_value::<RequirementsToml>(&value).map_err(|err| {
            let line = err
                .path
                .as_deref()
                .and_then(|path| crate::layers::line_of(&text, path));
            ConfigError::Invalid {
                source_name: file.display().to_string(),
                line,
                key: err.key(),
                problem: err.problem,
            }
        })?;
        for key in unknown {
            tracing::debug!("{}: ignoring unknown requirement `{key}`", file.display());
        }
        let wire = ConfigRequirements {
            allowed_approval_policies: parsed
                .allowed_approval_policies
                .map(|list| list.into_iter().map(|p| p.0).collect()),
            allowed_sandbox_modes: parsed.allowed_sandbox_modes.map(|list| {
                list.into_iter()
                    .filter_map(SandboxModeRequirement::mode)
                    .collect()
            }),
            // Turning web search off is always allowed, so it is always listed.
            allowed_web_search_modes: parsed.allowed_web_search_modes.map(|mut modes| {
                if !modes.contains(&WebSearchMode::Disabled) {
                    modes.push(WebSearchMode::Disabled);
                }
                modes
            }),
            enforce_residency: parsed.enforce_residency,
            feature_requirements: parsed.features,
        };
        if wire == ConfigRequirements::default() {
            return Ok(None);
        }
        Ok(Some(Requirements {
            file: file.to_path_buf(),
            wire,
        }))
    }

    /// Whether a configuration may use this approval policy.
    pub fn allows_approval_policy(&self, policy: &AskForApproval) -> bool {
        self.wire
            .allowed_approval_policies
            .as_ref()
            .is_none_or(|allowed| allowed.contains(policy))
    }

    /// Whether a configuration may use this sandbox mode.
    pub fn allows_sandbox_mode(&self, mode: SandboxMode) -> bool {
        self.wire
            .allowed_sandbox_modes
            .as_ref()
            .is_none_or(|allowed| allowed.contains(&mode))
    }

    /// Checks the configured policy and mode; the error names the key and this file.
    pub(crate) fn check(
        &self,
        policy: Option<&AskForApproval>,
        mode: Option<SandboxMode>,
    ) -> Result<(), DeError> {
        if let Some(policy) = policy.filter(|p| !self.allows_approval_policy(p)) {
            return Err(self.refusal("approval_policy", &json_text(policy)));
        }
        if let Some(mode) = mode.filter(|m| !self.allows_sandbox_mode(*m)) {
            return Err(self.refusal("sandbox_mode", &json_text(&mode)));
        }
        Ok(())
    }

    fn refusal(&self, key: &str, value: &str) -> DeError {
        DeError::new(
            vec![key.to_string()],
            Problem::Invalid(format!("{value} is not allowed by {}", self.file.display())),
        )
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
