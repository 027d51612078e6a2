//! Human output of `codex exec` (without `--json`): what happens, as lines for stderr, so that
//! stdout carries only the final answer (`codex exec "..." > answer.txt` works).
//!
//! Agent messages are held back one step: a message followed by more work was commentary and
//! goes to stderr; the last one is the answer, printed on stdout by the caller. On a terminal,
//! [`status_line`] adds a transient "working" line between events.

use super::events::{FileChangeKind, ItemDetails, ItemStatus, ThreadEvent};
use std::time::Duration;

/// Lines of command output shown under a command; the rest is summarised.
const OUTPUT_LINES: usize = 10;

pub struct HumanPrinter {
    color: bool,
    /// The latest agent message, not yet known to be the final answer.
    pending_message: Option<String>,
}

impl HumanPrinter {
    pub fn new(color: bool) -> Self {
        Self {
            color,
            pending_message: None,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// The stderr text for one event (possibly empty), each line ending in a newline.
    pub fn render(&mut self, event: &ThreadEvent) -> String {
        let mut out = String::new();
        // More work after an agent message shows it was not the last word. The plan closing
        // at the end of the turn is not more work.
        let is_message = matches!(
            event,
            ThreadEvent::ItemCompleted { item } if matches!(item.details, ItemDetails::AgentMessage { .. })
        );
        let more_work = match event {
            ThreadEvent::ItemStarted { .. } => true,
            ThreadEvent::ItemUpdated { .. } => false,
            ThreadEvent::ItemCompleted { item } => {
                !matches!(item.details, ItemDetails::TodoList { .. })
            }
            _ => false,
        };
        if more_work {
            if let Some(text) = self.pending_message.take() {
                out.push_str(&format!("{}\n{text}\n", self.paint("35", "codex")));
            }
        }
        match event {
            ThreadEvent::ThreadStarted { thread_id } => {
                out.push_str(&format!("{} {thread_id}\n", self.paint("2", "session")));
            }
            ThreadEvent::TurnStarted {} => {}
            ThreadEvent::ItemStarted { item } => match &item.details {
                ItemDetails::CommandExecution { command, .. } => {
                    out.push_str(&format!("{} {command}\n", self.paint("36", "exec")));
                }
                ItemDetails::TodoList { .. } => out.push_str(&self.item(&item.details, false)),
                _ => {}
            },
            ThreadEvent::ItemUpdated { item } => out.push_str(&self.item(&item.details, false)),
            // The plan was shown as it changed; its closing copy adds nothing.
            ThreadEvent::ItemCompleted { item }
                if matches!(item.details, ItemDetails::TodoList { .. }) => {}
            ThreadEvent::ItemCompleted { item } => {
                out.push_str(&self.item(&item.details, is_message));
            }
            ThreadEvent::TurnCompleted { usage } => {
                let used = usage.input_tokens + usage.output_tokens;
                out.push_str(&format!("{} {used}\n", self.paint("2", "tokens used")));
            }
            // The `error` event before it already said why.
            ThreadEvent::TurnFailed { .. } => {}
            ThreadEvent::Error { message } => {
                out.push_str(&format!("{} {message}\n", self.paint("31", "error:")));
            }
        }
        out
    }

    /// The answer: the last agent message, once the turn is over.
    pub fn take_final_message(&mut self) -> Option<String> {
        self.pending_message.take()
    }

    fn item(&mut self, details: &ItemDetails, is_message: bool) -> String {
        match details {
            ItemDetails::AgentMessage { text } => {
                if is_message {
                    self.pending_message = Some(text.clone());
                }
                String::new()
            }
            ItemDetails::Reasoning { text } => {
                format!("{}\n", self.paint("2;3", &format!("thinking: {text}")))
            }
            ItemDetails::CommandExecution {
                aggregated_output,
                exit_code,
                status,
                ..
            } => {
                let mut out = match (status, exit_code) {
                    (ItemStatus::InProgress, _) => return String::new(),
                    (ItemStatus::Completed, _) => self.paint("32", "  succeeded"),
                    (ItemStatus::Failed, Some(code)) => {
                        self.paint("31", &format!("  exited {code}"))
                    }
                    (ItemStatus::Failed, None) => self.paint("31", "  failed"),
                };
                out.push('\n');
                let lines: Vec<&str> = aggregated_output.lines().collect();
                for line in lines.iter().take(OUTPUT_LINES) {
                    out.push_str(&format!("  {}\n", self.paint("2", line)));
                }
                if lines.len() > OUTPUT_LINES {
                    out.push_str(&format!("  … {} more lines\n", lines.len() - OUTPUT_LINES));
                }
                out
            }
            ItemDetails::FileChange { changes, status } => {
                let verdict = match status {
                    ItemStatus::InProgress => return String::new(),
                    ItemStatus::Completed => self.paint("32", "applied"),
                    ItemStatus::Failed => self.paint("31", "failed"),
                };
                let mut out = format!("{} {verdict}\n", self.paint("36", "patch"));
                for change in changes {
                    let mark = match change.kind {
                        FileChangeKind::Add => "A",
                        FileChangeKind::Delete => "D",
                        FileChangeKind::Update => "M",
                    };
                    out.push_str(&format!("  {mark} {}\n", change.path));
                }
                out
            }
            ItemDetails::McpToolCall {
                server,
                tool,
                status,
                error,
                ..
            } => match (status, error) {
                (ItemStatus::InProgress, _) => String::new(),
                (_, Some(e)) => format!(
                    "{} {server}.{tool}: {}\n",
                    self.paint("36", "tool"),
                    e.message
                ),
                (s, None) => format!(
                    "{} {server}.{tool} {}\n",
                    self.paint("36", "tool"),
                    match s {
                        ItemStatus::Failed => "failed",
                        _ => "done",
                    }
                ),
            },
            ItemDetails::WebSearch { query } => {
                format!("{} {query}\n", self.paint("36", "web search"))
            }
            ItemDetails::TodoList { items } => {
                let mut out = format!("{}\n", self.paint("36", "plan"));
                for item in items {
                    let mark = if item.completed { "[x]" } else { "[ ]" };
                    out.push_str(&format!("  {mark} {}\n", item.text));
                }
                out
            }
            ItemDetails::Error { message } => {
                format!("{} {message}\n", self.paint("33", "warning:"))
            }
        }
    }
}

/// The transient line a terminal shows while nothing else is printed.
pub fn status_line(elapsed: Duration) -> String {
    format!("\r\x1b[2Kworking ({}s)", elapsed.as_secs())
}

/// Erases the transient line before real output.
pub const CLEAR_STATUS: &str = "\r\x1b[2K";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::events::{ExecItem, FileChange, ThreadError, Usage};

    fn done(details: ItemDetails) -> ThreadEvent {
        ThreadEvent::ItemCompleted {
            item: ExecItem {
                id: "item_0".into(),
                details,
            },
        }
    }

    #[test]
    fn commands_patches_and_plans_read_plainly() {
        let mut p = HumanPrinter::new(false);
        let started = ThreadEvent::ItemStarted {
            item: ExecItem {
                id: "item_0".into(),
                details: ItemDetails::CommandExecution {
                    command: "ls".into(),
                    aggregated_output: String::new(),
                    exit_code: None,
                    status: ItemStatus::InProgress,
                },
            },
        };
        assert_eq!(p.render(&started), "exec ls\n");
        let output: String = (0..12).map(|i| format!("l{i}\n")).collect();
        let finished = done(ItemDetails::CommandExecution {
            command: "ls".into(),
            aggregated_output: output,
            exit_code: Some(2),
            status: ItemStatus::Failed,
        });
        let text = p.render(&finished);
        assert!(text.starts_with("  exited 2\n  l0\n"), "{text}");
        assert!(text.ends_with("  l9\n  … 2 more lines\n"), "{text}");
        let patch = done(ItemDetails::FileChange {
            changes: vec![FileChange {
                path: "/w/a".into(),
                kind: FileChangeKind::Add,
            }],
            status: ItemStatus::Completed,
        });
        assert_eq!(p.render(&patch), "patch applied\n  A /w/a\n");
        let error = ThreadEvent::Error {
            message: "boom".into(),
        };
        assert_eq!(p.render(&error), "error: boom\n");
    }

    #[test]
    fn only_the_last_agent_message_is_the_answer() {
        let mut p = HumanPrinter::new(false);
        let message = |t: &str| done(ItemDetails::AgentMessage { text: t.into() });
        assert_eq!(p.render(&message("Looking around.")), "");
        assert_eq!(
            p.render(&message("Here it is.")),
            "codex\nLooking around.\n",
            "a message followed by more output was commentary"
        );
        let end = ThreadEvent::TurnCompleted {
            usage: Usage {
                input_tokens: 10,
                output_tokens: 5,
                ..Usage::default()
            },
        };
        assert_eq!(p.render(&end), "tokens used 15\n");
        assert_eq!(p.take_final_message().as_deref(), Some("Here it is."));
        let failed = ThreadEvent::TurnFailed {
            error: ThreadError {
                message: "x".into(),
            },
        };
        assert_eq!(p.render(&failed), "");
    }

    #[test]
    fn the_plan_shows_as_it_changes_and_does_not_demote_the_answer() {
        use crate::exec::events::TodoItem;
        let mut p = HumanPrinter::new(false);
        let todo = |done: bool| ExecItem {
            id: "item_1".into(),
            details: ItemDetails::TodoList {
                items: vec![TodoItem {
                    text: "step".into(),
                    completed: done,
                }],
            },
        };
        assert_eq!(
            p.render(&ThreadEvent::ItemStarted { item: todo(false) }),
            "plan\n  [ ] step\n"
        );
        assert_eq!(
            p.render(&ThreadEvent::ItemUpdated { item: todo(true) }),
            "plan\n  [x] step\n"
        );
        assert_eq!(
            p.render(&done(ItemDetails::AgentMessage {
                text: "Answer.".into()
            })),
            ""
        );
        assert_eq!(
            p.render(&ThreadEvent::ItemCompleted { item: todo(true) }),
            ""
        );
        assert_eq!(p.take_final_message().as_deref(), Some("Answer."));
    }

    #[test]
    fn colour_only_when_asked() {
        let mut p = HumanPrinter::new(true);
        let text = p.render(&ThreadEvent::Error {
            message: "boom".into(),
        });
        assert_eq!(text, "\x1b[31merror:\x1b[0m boom\n");
    }
}
