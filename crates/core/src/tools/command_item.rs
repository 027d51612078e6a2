//! The `commandExecution` item of a command: the fields fixed when it starts, and the item in
//! each state (started, declined, ended).

use super::command_run::Finished;
use codex_protocol::v2::{
    CommandAction, CommandExecutionSource, CommandExecutionStatus, ThreadItem,
};
use std::path::PathBuf;
use std::time::Duration;

/// The fields of a command's item that do not change while it runs.
#[derive(Clone, Debug)]
pub struct CommandItem {
    /// The item id: the tool call id, or a fresh id for a user's command.
    pub id: String,
    /// The argv as one display string, e.g. `/bin/bash -lc 'python3 -i'`.
    pub command: String,
    pub cwd: PathBuf,
    pub actions: Vec<CommandAction>,
    pub source: CommandExecutionSource,
    pub started_ms: i64,
}

/// How a command ended, as its item reports it.
pub struct ItemEnd {
    pub exit_code: Option<i32>,
    /// The aggregated output, or why the command could not run.
    pub output: String,
    pub duration: Duration,
    pub status: CommandExecutionStatus,
}

impl ItemEnd {
    /// The end of a command that ran to its end, timed out, or could not be run.
    pub fn of(f: &Finished) -> ItemEnd {
        let ok = f.error.is_none() && f.exit_code == 0 && !f.timed_out;
        ItemEnd {
            exit_code: f.error.is_none().then_some(f.exit_code),
            output: f.error.clone().unwrap_or_else(|| f.aggregated.clone()),
            duration: f.duration,
            status: if ok {
                CommandExecutionStatus::Completed
            } else {
                CommandExecutionStatus::Failed
            },
        }
    }

    /// The end of a process that exited with `exit_code` (a session, or a one-shot command).
    pub fn exited(exit_code: i32, output: String, duration: Duration) -> ItemEnd {
        ItemEnd {
            exit_code: Some(exit_code),
            output,
            duration,
            status: if exit_code == 0 {
                CommandExecutionStatus::Completed
            } else {
                CommandExecutionStatus::Failed
            },
        }
    }
}

impl CommandItem {
    fn item(
        &self,
        process_id: Option<i32>,
        status: CommandExecutionStatus,
        end: Option<&ItemEnd>,
    ) -> ThreadItem {
        ThreadItem::CommandExecution {
            id: self.id.clone(),
            command: self.command.clone(),
            cwd: self.cwd.clone(),
            process_id: process_id.map(|p| p.to_string()),
            source: self.source,
            status,
            command_actions: self.actions.clone(),
            aggregated_output: end.map(|e| e.output.clone()),
            exit_code: end.and_then(|e| e.exit_code),
            duration_ms: end.map(|e| e.duration.as_millis() as i64),
        }
    }

    /// The item while the command runs (or waits for approval, without a process id).
    pub fn started(&self, process_id: Option<i32>) -> ThreadItem {
        self.item(process_id, CommandExecutionStatus::InProgress, None)
    }

    /// The item of a command the user declined.
    pub fn declined(&self) -> ThreadItem {
        self.item(None, CommandExecutionStatus::Declined, None)
    }

    /// The final item.
    pub fn ended(&self, process_id: Option<i32>, end: &ItemEnd) -> ThreadItem {
        self.item(process_id, end.status, Some(end))
    }
}
