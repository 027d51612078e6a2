//! The JSON lines `codex exec --json` prints, in the shapes `@openai/codex-sdk` 0.163 parses
//! (its `ThreadEvent` and `ThreadItem` unions) and the official binary emits: snake_case
//! fields, items `{"id":"item_N","type":…}`, `null` rather than omitted optional fields.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One stdout line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ThreadEvent {
    #[serde(rename = "thread.started")]
    ThreadStarted { thread_id: String },
    #[serde(rename = "turn.started")]
    TurnStarted {},
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: Usage },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: ThreadError },
    #[serde(rename = "item.started")]
    ItemStarted { item: ExecItem },
    #[serde(rename = "item.updated")]
    ItemUpdated { item: ExecItem },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: ExecItem },
    /// An unrecoverable error; a failed turn sends this, then `turn.failed` with the same text.
    #[serde(rename = "error")]
    Error { message: String },
}

impl ThreadEvent {
    /// The event as one line of JSON (without the newline).
    pub fn to_line(&self) -> String {
        // Serializing these plain structs cannot fail (string keys, no custom impls).
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Token counts of the whole turn (every model request it made).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: i64,
    pub cached_input_tokens: i64,
    pub cache_write_input_tokens: i64,
    pub output_tokens: i64,
    pub reasoning_output_tokens: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadError {
    pub message: String,
}

/// An item: its exec id (`item_0`, `item_1`, … in order of first appearance) and its payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecItem {
    pub id: String,
    #[serde(flatten)]
    pub details: ItemDetails,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemDetails {
    AgentMessage {
        text: String,
    },
    Reasoning {
        text: String,
    },
    CommandExecution {
        command: String,
        /// stdout and stderr as the command wrote them.
        aggregated_output: String,
        exit_code: Option<i32>,
        status: ItemStatus,
    },
    FileChange {
        changes: Vec<FileChange>,
        status: ItemStatus,
    },
    McpToolCall {
        server: String,
        tool: String,
        arguments: Value,
        result: Option<McpToolCallResult>,
        error: Option<ThreadError>,
        status: ItemStatus,
    },
    WebSearch {
        query: String,
    },
    TodoList {
        items: Vec<TodoItem>,
    },
    /// A non-fatal problem (a warning), reported as an item.
    Error {
        message: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    InProgress,
    Completed,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: String,
    pub kind: FileChangeKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChangeKind {
    Add,
    Delete,
    Update,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct McpToolCallResult {
    pub content: Vec<Value>,
    pub structured_content: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub text: String,
    pub completed: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_match_the_official_binary_byte_for_byte() {
        // Captured from the official 0.163 `codex exec --experimental-json`.
        let started = ThreadEvent::ItemStarted {
            item: ExecItem {
                id: "item_3".into(),
                details: ItemDetails::CommandExecution {
                    command: "/bin/bash -lc 'echo out; exit 3'".into(),
                    aggregated_output: String::new(),
                    exit_code: None,
                    status: ItemStatus::InProgress,
                },
            },
        };
        assert_eq!(
            started.to_line(),
            r#"{"type":"item.started","item":{"id":"item_3","type":"command_execution","command":"/bin/bash -lc 'echo out; exit 3'","aggregated_output":"","exit_code":null,"status":"in_progress"}}"#
        );
        let completed = ThreadEvent::TurnCompleted {
            usage: Usage {
                input_tokens: 360,
                cached_input_tokens: 60,
                cache_write_input_tokens: 0,
                output_tokens: 21,
                reasoning_output_tokens: 0,
            },
        };
        assert_eq!(
            completed.to_line(),
            r#"{"type":"turn.completed","usage":{"input_tokens":360,"cached_input_tokens":60,"cache_write_input_tokens":0,"output_tokens":21,"reasoning_output_tokens":0}}"#
        );
        assert_eq!(
            ThreadEvent::TurnStarted {}.to_line(),
            r#"{"type":"turn.started"}"#
        );
        let change = ThreadEvent::ItemCompleted {
            item: ExecItem {
                id: "item_0".into(),
                details: ItemDetails::FileChange {
                    changes: vec![FileChange {
                        path: "/w/hello.txt".into(),
                        kind: FileChangeKind::Add,
                    }],
                    status: ItemStatus::Completed,
                },
            },
        };
        assert_eq!(
            change.to_line(),
            r#"{"type":"item.completed","item":{"id":"item_0","type":"file_change","changes":[{"path":"/w/hello.txt","kind":"add"}],"status":"completed"}}"#
        );
    }

    #[test]
    fn every_event_round_trips() {
        let events = vec![
            ThreadEvent::ThreadStarted {
                thread_id: "t".into(),
            },
            ThreadEvent::TurnFailed {
                error: ThreadError {
                    message: "boom".into(),
                },
            },
            ThreadEvent::Error {
                message: "boom".into(),
            },
            ThreadEvent::ItemUpdated {
                item: ExecItem {
                    id: "item_1".into(),
                    details: ItemDetails::TodoList {
                        items: vec![TodoItem {
                            text: "a".into(),
                            completed: true,
                        }],
                    },
                },
            },
            ThreadEvent::ItemCompleted {
                item: ExecItem {
                    id: "item_2".into(),
                    details: ItemDetails::McpToolCall {
                        server: "fs".into(),
                        tool: "read".into(),
                        arguments: json!({"path": "/x"}),
                        result: Some(McpToolCallResult {
                            content: vec![json!({"type": "text", "text": "hi"})],
                            structured_content: None,
                        }),
                        error: None,
                        status: ItemStatus::Completed,
                    },
                },
            },
        ];
        for event in events {
            let back: ThreadEvent = serde_json::from_str(&event.to_line()).unwrap();
            assert_eq!(back, event);
        }
        assert_eq!(
            serde_json::to_value(ThreadEvent::TurnFailed {
                error: ThreadError {
                    message: "m".into()
                }
            })
            .unwrap(),
            json!({"type": "turn.failed", "error": {"message": "m"}})
        );
    }
}
