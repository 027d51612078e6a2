//! Thread items (the units a turn is made of) and user input.

use super::dynamic_tools::{DynamicToolCallOutputContentItem, DynamicToolCallStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One piece of user input: turn/start `input`, turn/steer `input`, userMessage `content`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum UserInput {
    #[schemars(title = "TextUserInput")]
    Text {
        text: String,
        /// Snake_case on the wire, as the official protocol spells it.
        #[serde(default)]
        text_elements: Vec<TextElement>,
    },
    #[schemars(title = "ImageUserInput")]
    Image {
        url: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<ImageDetail>,
    },
    #[schemars(title = "LocalImageUserInput")]
    LocalImage {
        path: PathBuf,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<ImageDetail>,
    },
    #[schemars(title = "SkillUserInput")]
    Skill { name: String, path: PathBuf },
    #[schemars(title = "MentionUserInput")]
    Mention { name: String, path: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImageDetail {
    Auto,
    Low,
    High,
    Original,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextElement {
    pub byte_range: ByteRange,
    #[serde(default)]
    pub placeholder: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum MessagePhase {
    #[serde(rename = "commentary")]
    Commentary,
    #[serde(rename = "partial_answer")]
    PartialAnswer,
    #[serde(rename = "final_answer")]
    FinalAnswer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PatchApplyStatus {
    InProgress,
    Completed,
    Failed,
    Declined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecutionSource {
    Agent,
    UserShell,
    UnifiedExecStartup,
    UnifiedExecInteraction,
}

/// What a command does, as far as the server can tell from its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum CommandAction {
    #[schemars(title = "ReadCommandAction")]
    Read {
        command: String,
        name: String,
        path: PathBuf,
    },
    #[schemars(title = "ListFilesCommandAction")]
    ListFiles {
        command: String,
        path: Option<PathBuf>,
    },
    #[schemars(title = "SearchCommandAction")]
    Search {
        command: String,
        query: Option<String>,
        path: Option<PathBuf>,
    },
    #[schemars(title = "UnknownCommandAction")]
    Unknown { command: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PatchChangeKind {
    #[schemars(title = "AddPatchChangeKind")]
    Add,
    #[schemars(title = "DeletePatchChangeKind")]
    Delete,
    #[schemars(title = "UpdatePatchChangeKind")]
    Update {
        /// Snake_case on the wire, as the official protocol spells it.
        #[serde(default)]
        move_path: Option<PathBuf>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileUpdateChange {
    pub path: PathBuf,
    pub kind: PatchChangeKind,
    pub diff: String,
}

/// One unit of a turn. Every field is emitted (null when absent), as the official runtime does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThreadItem {
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "UserMessageThreadItem")]
    UserMessage {
        id: String,
        content: Vec<UserInput>,
        #[serde(default)]
        client_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "AgentMessageThreadItem")]
    AgentMessage {
        id: String,
        text: String,
        #[serde(default)]
        phase: Option<MessagePhase>,
        #[serde(default)]
        memory_citation: Option<serde_json::Value>,
    },
    #[schemars(title = "PlanThreadItem")]
    Plan { id: String, text: String },
    #[schemars(title = "ReasoningThreadItem")]
    Reasoning {
        id: String,
        #[serde(default)]
        summary: Vec<String>,
        #[serde(default)]
        content: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "CommandExecutionThreadItem")]
    CommandExecution {
        id: String,
        command: String,
        cwd: PathBuf,
        #[serde(default)]
        process_id: Option<String>,
        #[serde(default = "default_command_source")]
        source: CommandExecutionSource,
        status: CommandExecutionStatus,
        command_actions: Vec<CommandAction>,
        #[serde(default)]
        aggregated_output: Option<String>,
        #[serde(default)]
        exit_code: Option<i32>,
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    #[schemars(title = "FileChangeThreadItem")]
    FileChange {
        id: String,
        changes: Vec<FileUpdateChange>,
        status: PatchApplyStatus,
    },
    #[schemars(title = "ImageViewThreadItem")]
    ImageView { id: String, path: PathBuf },
    #[schemars(title = "ContextCompactionThreadItem")]
    ContextCompaction { id: String },
    /// A review turn started; `review` is what it reviews (`current changes`, the custom
    /// instructions, ...).
    #[schemars(title = "EnteredReviewModeThreadItem")]
    EnteredReviewMode { id: String, review: String },
    /// A review turn ended; `review` is the review, rendered as text.
    #[schemars(title = "ExitedReviewModeThreadItem")]
    ExitedReviewMode { id: String, review: String },
    /// A call to a tool of an MCP server; `id` is the model's call id, `tool` the server's own
    /// tool name. Field order and nulls as the official runtime sends them.
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "McpToolCallThreadItem")]
    McpToolCall {
        id: String,
        server: String,
        tool: String,
        status: super::mcp::McpToolCallStatus,
        arguments: serde_json::Value,
        #[serde(default)]
        app_context: Option<serde_json::Value>,
        #[serde(default)]
        mcp_app_ui: Option<serde_json::Value>,
        #[serde(default)]
        plugin_id: Option<String>,
        #[serde(default)]
        read_only_hint: Option<bool>,
        #[serde(default)]
        result: Option<super::mcp::McpToolCallResult>,
        #[serde(default)]
        error: Option<super::mcp::McpToolCallError>,
        #[serde(default)]
        duration_ms: Option<i64>,
    },
    /// A call of a client-defined tool (experimental); `id` is the model's call id.
    #[serde(rename_all = "camelCase")]
    #[schemars(title = "DynamicToolCallThreadItem")]
    DynamicToolCall {
        id: String,
        tool: String,
        #[serde(default)]
        namespace: Option<String>,
        arguments: serde_json::Value,
        status: DynamicToolCallStatus,
        #[serde(default)]
        content_items: Option<Vec<DynamicToolCallOutputContentItem>>,
        #[serde(default)]
        success: Option<bool>,
        #[serde(default)]
        duration_ms: Option<i64>,
    },
}

fn default_command_source() -> CommandExecutionSource {
    CommandExecutionSource::Agent
}

impl ThreadItem {
    pub fn id(&self) -> &str {
        match self {
            ThreadItem::UserMessage { id, .. }
            | ThreadItem::AgentMessage { id, .. }
            | ThreadItem::Plan { id, .. }
            | ThreadItem::Reasoning { id, .. }
            | ThreadItem::CommandExecution { id, .. }
            | ThreadItem::FileChange { id, .. }
            | ThreadItem::ImageView { id, .. }
            | ThreadItem::ContextCompaction { id }
            | ThreadItem::EnteredReviewMode { id, .. }
            | ThreadItem::ExitedReviewMode { id, .. }
            | ThreadItem::McpToolCall { id, .. }
            | ThreadItem::DynamicToolCall { id, .. } => id,
        }
    }
}
