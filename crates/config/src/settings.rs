//! [`Settings`]: the typed values the runtime reads, resolved from an effective configuration
//! table (typed deserialization, providers, requirements, the instructions file).

use crate::config_toml::ConfigToml;
use crate::de;
use crate::error::ConfigError;
use crate::layers::LayerStack;
use crate::providers::resolve_providers;
use crate::requirements::Requirements;
use codex_model::ProviderInfo;
use codex_protocol::v2::{
    ApprovalsReviewer, AskForApproval, ReasoningEffort, ReasoningSummary, SandboxMode,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The model used when nothing is configured.
pub const DEFAULT_MODEL: &str = "gpt-5.1-codex";
/// The provider used when nothing is configured.
pub const DEFAULT_MODEL_PROVIDER: &str = "openai";
/// AGENTS.md bytes read into the instructions when `project_doc_max_bytes` is unset.
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;

/// Typed view of the keys that matter (agent-core §7.2).
#[derive(Clone, Debug)]
pub struct Settings {
    pub model: Option<String>,
    pub model_provider: String,
    pub providers: BTreeMap<String, ProviderInfo>,
    pub approval_policy: Option<AskForApproval>,
    pub approvals_reviewer: Option<ApprovalsReviewer>,
    pub sandbox_mode: Option<SandboxMode>,
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
    pub reasoning_effort: Option<ReasoningEffort>,
    pub reasoning_summary: Option<ReasoningSummary>,
    pub base_instructions: Option<String>,
    pub developer_instructions: Option<String>,
    pub model_context_window: Option<i64>,
    pub auto_compact_token_limit: Option<i64>,
    pub compact_prompt: Option<String>,
    pub project_doc_max_bytes: usize,
    /// `app_server.max_line_bytes`: longest accepted input line.
    pub max_line_bytes: Option<usize>,
    /// `app_server.max_queued_messages`: a client's outgoing queue, past which it is dropped.
    pub max_queued_messages: Option<usize>,
    /// `[thread_store]`: the store backend, its connection and the turn lease ttl.
    pub thread_store: codex_store::ThreadStoreConfig,
    /// `app_server.max_response_bytes`: longest `thread/read` / `thread/resume` answer.
    pub max_response_bytes: Option<usize>,
}

impl Settings {
    /// Settings from one table with no file behind it (errors name `config`).
    pub fn from_table(t: &Table) -> Result<Settings, ConfigError> {
        Resolver {
            stack: &LayerStack::default(),
            overlay: None,
            requirements: None,
            read_files: true,
        }
        .resolve(t.clone())
    }

    pub fn provider(&self, id: &str) -> Result<ProviderInfo, ConfigError> {
        self.providers
            .get(id)
            .cloned()
            .ok_or_else(|| ConfigError::Value {
                key: "model_provider".into(),
                reason: format!("unknown provider {id:?}"),
            })
    }
}

/// Resolves an effective table into [`Settings`]; errors are traced back to the layer (file
/// and line) or per-thread overlay that set the bad value.
pub(crate) struct Resolver<'a> {
    pub stack: &'a LayerStack,
    pub overlay: Option<&'a Table>,
    pub requirements: Option<&'a Requirements>,
    /// Whether `model_instructions_file` is read; the fuzzing entry point never touches disk.
    pub read_files: bool,
}

impl Resolver<'_> {
    pub fn resolve(&self, effective: Table) -> Result<Settings, ConfigError> {
        let effective = Value::Table(effective);
        let (toml, unknown): (ConfigToml, Vec<String>) =
            de::from_value(&effective).map_err(|e| self.locate(e))?;
        for key in unknown {
            tracing::debug!("ignoring unknown config key `{key}`");
        }
        self.settings(toml)
    }

    fn locate(&self, err: de::DeError) -> ConfigError {
        self.stack.locate(err, self.overlay)
    }

    fn settings(&self, toml: ConfigToml) -> Result<Settings, ConfigError> {
        let approval_policy = toml.approval_policy.map(|p| p.0);
        if let Some(requirements) = self.requirements {
            requirements
                .check(approval_policy.as_ref(), toml.sandbox_mode)
                .map_err(|e| self.locate(e))?;
        }
        let providers = resolve_providers(toml.model_providers).map_err(|e| self.locate(e))?;
        let instructions_file = match (
            toml.model_instructions_file,
            toml.experimental_instructions_file,
        ) {
            (Some(file), _) => Some(("model_instructions_file", file)),
            (None, Some(file)) => Some(("experimental_instructions_file", file)),
            (None, None) => None,
        };
        let base_instructions = match instructions_file {
            Some((key, file)) if self.read_files => Some(self.read_instructions(key, &file)?),
            _ => toml.base_instructions,
        };
        let ww = toml.sandbox_workspace_write;
        Ok(Settings {
            model: toml.model,
            model_provider: toml
                .model_provider
                .unwrap_or_else(|| DEFAULT_MODEL_PROVIDER.to_string()),
            providers,
            approval_policy,
            approvals_reviewer: toml.approvals_reviewer,
            sandbox_mode: toml.sandbox_mode,
            writable_roots: ww.writable_roots,
            network_access: ww.network_access,
            exclude_tmpdir_env_var: ww.exclude_tmpdir_env_var,
            exclude_slash_tmp: ww.exclude_slash_tmp,
            reasoning_effort: toml.model_reasoning_effort,
            reasoning_summary: toml.model_reasoning_summary,
            base_instructions,
            developer_instructions: toml.developer_instructions,
            model_context_window: toml.model_context_window,
            auto_compact_token_limit: toml.model_auto_compact_token_limit,
            compact_prompt: toml.compact_prompt,
            project_doc_max_bytes: toml
                .project_doc_max_bytes
                .unwrap_or(DEFAULT_PROJECT_DOC_MAX_BYTES),
            max_line_bytes: toml.app_server.max_line_bytes,
            max_queued_messages: toml.app_server.max_queued_messages,
            thread_store: toml.thread_store,
            max_response_bytes: toml.app_server.max_response_bytes,
        })
    }

    /// Reads the instructions file; a relative path is taken from the folder of the file that
    /// set it (as the official runtime resolves paths), else from the process directory.
    fn read_instructions(&self, key: &str, file: &Path) -> Result<String, ConfigError> {
        let path = if file.is_relative() {
            let key_path = [key.to_string()];
            let from_overlay = self
                .overlay
                .is_some_and(|t| crate::convert::value_at(t, &key_path).is_some());
            match self.stack.winner(&key_path).and_then(|l| l.base_dir()) {
                Some(dir) if !from_overlay => dir.join(file),
                _ => file.to_path_buf(),
            }
        } else {
            file.to_path_buf()
        };
        let refuse = |reason: String| ConfigError::Value {
            key: key.to_string(),
            reason: format!("{}: {reason}", path.display()),
        };
        // Instructions go into every model request: a file far bigger than any prompt is a
        // mistake (a log, a binary), refused before it is read whole.
        let size = std::fs::metadata(&path)
            .map_err(|e| refuse(e.to_string()))?
            .len();
        if size > MAX_INSTRUCTIONS_BYTES {
            return Err(refuse(format!(
                "the file is {size} bytes, over the {MAX_INSTRUCTIONS_BYTES}-byte limit"
            )));
        }
        std::fs::read_to_string(&path).map_err(|e| refuse(e.to_string()))
    }
}

/// Largest instructions file read (`model_instructions_file`).
const MAX_INSTRUCTIONS_BYTES: u64 = 1024 * 1024;
