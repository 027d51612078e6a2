//! The options of the public methods and how they become wire params. Every option is
//! optional; `None` is "not sent" (the server's default applies), never `null`.
//!
//! Thread-level calls (`thread/start|resume|fork`) take a [`SandboxMode`]; turn-level calls a
//! [`SandboxPolicy`] object, as the protocol has it.

use crate::tools::Tool;
use codex_protocol::v2::{
    ApprovalMode as WireApprovalMode, ApprovalsReviewer, AskForApproval, ImageDetail, Personality,
    ReasoningEffort, ReasoningSummary, SandboxMode, SandboxPolicy, ThreadSource, ThreadStartParams,
    ThreadStartSource, TurnStartParams, UserInput,
};
use serde_json::{Map, Value};
use std::path::PathBuf;

/// How escalated actions are approved (the Python SDK's presets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ApprovalMode {
    /// Never ask; escalations are refused (`approvalPolicy: never`).
    DenyAll,
    /// Ask on request and let the server-side reviewer decide (`on-request` +
    /// `auto_review`). The default of [`crate::Codex::thread_start`].
    #[default]
    AutoReview,
    /// Ask the client about everything not known to be safe (`untrusted` + `user`): the
    /// [`crate::ApprovalHandler`] decides.
    AskUser,
}

impl ApprovalMode {
    fn wire(self) -> (AskForApproval, Option<ApprovalsReviewer>) {
        match self {
            ApprovalMode::DenyAll => (AskForApproval::mode(WireApprovalMode::Never), None),
            ApprovalMode::AutoReview => (
                AskForApproval::mode(WireApprovalMode::OnRequest),
                Some(ApprovalsReviewer::AutoReview),
            ),
            ApprovalMode::AskUser => (
                AskForApproval::mode(WireApprovalMode::Untrusted),
                Some(ApprovalsReviewer::User),
            ),
        }
    }
}

/// Options of [`crate::Codex::thread_start`], [`crate::Codex::thread_resume`] and
/// [`crate::Codex::thread_fork`].
///
/// ```
/// use codex_sdk::{ApprovalMode, ThreadOptions};
/// use codex_sdk::protocol::v2::SandboxMode;
///
/// let options = ThreadOptions::default()
///     .model("gpt-5.1-codex")
///     .sandbox(SandboxMode::WorkspaceWrite)
///     .approval_mode(ApprovalMode::AskUser);
/// # drop(options);
/// ```
#[derive(Clone, Debug, Default)]
pub struct ThreadOptions {
    /// Thread start defaults to [`ApprovalMode::AutoReview`]; resume and fork keep the
    /// thread's own when `None`.
    pub approval_mode: Option<ApprovalMode>,
    /// Replaces the built-in instructions.
    pub base_instructions: Option<String>,
    /// Per-thread configuration overrides (`config.toml` keys).
    pub config: Option<Map<String, Value>>,
    /// The thread's working directory (default: the server's).
    pub cwd: Option<String>,
    /// Extra instructions from the developer.
    pub developer_instructions: Option<String>,
    /// A thread that is never written to disk.
    pub ephemeral: Option<bool>,
    /// The model to use.
    pub model: Option<String>,
    /// The model provider (a `model_providers` key of the configuration).
    pub model_provider: Option<String>,
    /// The agent's personality.
    pub personality: Option<Personality>,
    /// Filesystem access of the thread.
    pub sandbox: Option<SandboxMode>,
    /// A name for the calling service.
    pub service_name: Option<String>,
    /// The service tier.
    pub service_tier: Option<String>,
    /// Why the thread was started.
    pub session_start_source: Option<ThreadStartSource>,
    /// Who the thread belongs to.
    pub thread_source: Option<ThreadSource>,
    /// Resume and fork: whether the answer carries the thread's turns (`excludeTurns`).
    pub include_turns: Option<bool>,
    /// Client-defined tools this client answers for the thread. On start they are also sent
    /// to the server; a resumed or forked thread keeps the tools it was started with, so pass
    /// the same ones to answer their calls.
    pub tools: Vec<Tool>,
}

impl ThreadOptions {
    /// Sets [`ThreadOptions::approval_mode`].
    pub fn approval_mode(mut self, mode: ApprovalMode) -> Self {
        self.approval_mode = Some(mode);
        self
    }

    /// Sets [`ThreadOptions::model`].
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets [`ThreadOptions::cwd`].
    pub fn cwd(mut self, cwd: impl Into<String>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Sets [`ThreadOptions::sandbox`].
    pub fn sandbox(mut self, sandbox: SandboxMode) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    /// Sets [`ThreadOptions::developer_instructions`].
    pub fn developer_instructions(mut self, text: impl Into<String>) -> Self {
        self.developer_instructions = Some(text.into());
        self
    }

    /// Sets [`ThreadOptions::base_instructions`].
    pub fn base_instructions(mut self, text: impl Into<String>) -> Self {
        self.base_instructions = Some(text.into());
        self
    }

    /// Sets [`ThreadOptions::ephemeral`].
    pub fn ephemeral(mut self, ephemeral: bool) -> Self {
        self.ephemeral = Some(ephemeral);
        self
    }

    /// Sets [`ThreadOptions::include_turns`].
    pub fn include_turns(mut self, include: bool) -> Self {
        self.include_turns = Some(include);
        self
    }

    /// Adds a client-defined tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }

    /// The wire settings; `default_mode` applies when no approval mode was chosen.
    pub(crate) fn to_params(&self, default_mode: Option<ApprovalMode>) -> ThreadStartParams {
        let (approval_policy, approvals_reviewer) =
            match self.approval_mode.or(default_mode).map(ApprovalMode::wire) {
                Some((policy, reviewer)) => (Some(policy), reviewer),
                None => (None, None),
            };
        ThreadStartParams {
            approval_policy,
            approvals_reviewer,
            base_instructions: self.base_instructions.clone(),
            config: self.config.clone(),
            cwd: self.cwd.clone(),
            developer_instructions: self.developer_instructions.clone(),
            ephemeral: self.ephemeral,
            model: self.model.clone(),
            model_provider: self.model_provider.clone(),
            personality: self.personality,
            sandbox: self.sandbox,
            service_name: self.service_name.clone(),
            service_tier: self.service_tier.clone(),
            session_start_source: self.session_start_source,
            thread_source: self.thread_source,
            // Tools travel only on `thread/start`, from the options' toolset.
            dynamic_tools: None,
        }
    }

    /// `excludeTurns` for resume and fork.
    pub(crate) fn exclude_turns(&self) -> Option<bool> {
        self.include_turns.map(|include| !include)
    }
}

/// Options of one turn ([`crate::Thread::run_with`], [`crate::Thread::turn_with`]).
#[derive(Clone, Debug, Default)]
pub struct TurnOptions {
    /// How escalations are approved from this turn on.
    pub approval_mode: Option<ApprovalMode>,
    /// The turn's working directory.
    pub cwd: Option<String>,
    /// Reasoning effort.
    pub effort: Option<ReasoningEffort>,
    /// The model, from this turn on.
    pub model: Option<String>,
    /// A JSON Schema the final answer must follow.
    pub output_schema: Option<Value>,
    /// The agent's personality.
    pub personality: Option<Personality>,
    /// Filesystem and network access from this turn on.
    pub sandbox: Option<SandboxPolicy>,
    /// Updates the thread's default service tier.
    pub service_tier: Option<String>,
    /// Labels what started the turn (`turnTrigger`); grants no authority.
    pub source: Option<String>,
    /// Reasoning summaries.
    pub summary: Option<ReasoningSummary>,
    /// A service tier for this turn only (`serviceTierForTurn`).
    pub turn_service_tier: Option<String>,
}

impl TurnOptions {
    pub(crate) fn to_params(&self, thread_id: &str, input: Input) -> TurnStartParams {
        let (approval_policy, approvals_reviewer) = match self.approval_mode.map(ApprovalMode::wire)
        {
            Some((policy, reviewer)) => (Some(policy), reviewer),
            None => (None, None),
        };
        TurnStartParams {
            thread_id: thread_id.to_string(),
            input: input.0,
            approval_policy,
            approvals_reviewer,
            client_user_message_id: None,
            cwd: self.cwd.clone(),
            effort: self.effort,
            model: self.model.clone(),
            output_schema: self.output_schema.clone(),
            personality: self.personality,
            sandbox_policy: self.sandbox.clone(),
            service_tier: self.service_tier.clone(),
            summary: self.summary,
            turn_trigger: self.source.clone(),
            service_tier_for_turn: self.turn_service_tier.clone(),
        }
    }
}

/// The user input of a turn or a steer: text, images, skills, mentions.
///
/// ```
/// use codex_sdk::Input;
///
/// let plain: Input = "Summarise this repository.".into();
/// let with_image = Input::text("What is in this picture?").and(Input::local_image("shot.png"));
/// assert_eq!(with_image.items().len(), 2);
/// # drop(plain);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Input(Vec<UserInput>);

impl Input {
    /// Plain text.
    pub fn text(text: impl Into<String>) -> Input {
        Input(vec![UserInput::Text {
            text: text.into(),
            text_elements: Vec::new(),
        }])
    }

    /// An image by URL (`https:` or a `data:` URL).
    pub fn image(url: impl Into<String>) -> Input {
        Input(vec![UserInput::Image {
            url: url.into(),
            detail: None::<ImageDetail>,
        }])
    }

    /// An image file on the machine running the app-server.
    pub fn local_image(path: impl Into<PathBuf>) -> Input {
        Input(vec![UserInput::LocalImage {
            path: path.into(),
            detail: None,
        }])
    }

    /// This input followed by `more`.
    pub fn and(mut self, more: Input) -> Input {
        self.0.extend(more.0);
        self
    }

    /// The wire items.
    pub fn items(&self) -> &[UserInput] {
        &self.0
    }
}

impl From<&str> for Input {
    fn from(text: &str) -> Input {
        Input::text(text)
    }
}

impl From<String> for Input {
    fn from(text: String) -> Input {
        Input::text(text)
    }
}

impl From<UserInput> for Input {
    fn from(item: UserInput) -> Input {
        Input(vec![item])
    }
}

impl From<Vec<UserInput>> for Input {
    fn from(items: Vec<UserInput>) -> Input {
        Input(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thread_params_carry_the_approval_preset_and_omit_unset_options() {
        let params = ThreadOptions::default()
            .model("m")
            .to_params(Some(ApprovalMode::AutoReview));
        assert_eq!(
            serde_json::to_value(params).unwrap(),
            json!({"approvalPolicy": "on-request", "approvalsReviewer": "auto_review", "model": "m"})
        );
        let asked = ThreadOptions::default()
            .approval_mode(ApprovalMode::AskUser)
            .sandbox(SandboxMode::WorkspaceWrite)
            .to_params(Some(ApprovalMode::AutoReview));
        assert_eq!(
            serde_json::to_value(asked).unwrap(),
            json!({"approvalPolicy": "untrusted", "approvalsReviewer": "user", "sandbox": "workspace-write"})
        );
        let resumed = ThreadOptions::default().to_params(None);
        assert_eq!(serde_json::to_value(resumed).unwrap(), json!({}));
        let denied = ThreadOptions::default().approval_mode(ApprovalMode::DenyAll);
        assert_eq!(
            serde_json::to_value(denied.to_params(None)).unwrap(),
            json!({"approvalPolicy": "never"})
        );
        assert_eq!(
            ThreadOptions::default()
                .include_turns(false)
                .exclude_turns(),
            Some(true)
        );
    }

    #[test]
    fn turn_params_rename_source_and_turn_tier() {
        let options = TurnOptions {
            source: Some("cron".into()),
            turn_service_tier: Some("flex".into()),
            ..TurnOptions::default()
        };
        assert_eq!(
            serde_json::to_value(options.to_params("t", "hi".into())).unwrap(),
            json!({"threadId": "t", "input": [{"type": "text", "text": "hi", "text_elements": []}],
                   "turnTrigger": "cron", "serviceTierForTurn": "flex"})
        );
    }
}
