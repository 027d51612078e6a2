//! A command the user typed (`thread/shellCommand`): run by the user's shell without a sandbox
//! (the user asked for it), streamed as the deltas of a `commandExecution` item with source
//! `userShell`, and summarised for the model as a `<user_shell_command>` user message in the
//! official format.

use super::command;
use super::command_deltas::DeltaTarget;
use super::command_item::{CommandItem, ItemEnd};
use super::command_run::{run_to_end, Finished};
use crate::clock::now_ms;
use crate::sink::Sink;
use codex_exec::TruncationPolicy;
use codex_protocol::v2::{CommandExecutionSource, CommandExecutionStatus, ThreadItem};
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Bytes of output kept in memory (head and tail).
const OUTPUT_CAP_BYTES: usize = 1024 * 1024;
/// Budget of the output quoted to the model.
const MODEL_OUTPUT_BYTES: usize = 10_000;
const ABORTED: &str = "command aborted by user";

/// One user command, before it runs.
pub struct UserCommand {
    /// The script as typed (quoted to the model).
    script: String,
    argv: Vec<String>,
    timeout: Duration,
    pub item: CommandItem,
}

/// How a user command ended.
pub struct UserCommandEnd {
    /// The completed item.
    pub item: ThreadItem,
    /// The user message that tells the model what ran and what it printed.
    pub record: String,
    /// The turn was interrupted; the process group was killed.
    pub cancelled: bool,
}

impl UserCommand {
    pub fn new(script: &str, cwd: PathBuf, timeout: Duration) -> UserCommand {
        let argv = command::shell_argv(None, true, script);
        UserCommand {
            script: script.to_string(),
            item: CommandItem {
                id: uuid::Uuid::new_v4().to_string(),
                command: command::join_argv(&argv),
                cwd,
                actions: command::command_actions(script),
                source: CommandExecutionSource::UserShell,
                started_ms: now_ms(),
            },
            argv,
            timeout,
        }
    }

    /// Runs the command to its end, its timeout (exit code 124) or `cancel`, streaming its
    /// output as deltas of the item (`sink` is routed to the thread).
    pub async fn run(
        &self,
        sink: Sink,
        thread_id: &str,
        turn_id: &str,
        cancel: CancellationToken,
    ) -> UserCommandEnd {
        let request = codex_exec::ExecRequest {
            argv: self.argv.clone(),
            cwd: self.item.cwd.clone(),
            env: command::child_env(false),
            timeout: Some(self.timeout),
            output_cap_bytes: OUTPUT_CAP_BYTES,
            sandbox: codex_exec::SandboxPolicy::DangerFullAccess,
        };
        let target = DeltaTarget {
            sink,
            thread_id: thread_id.to_string(),
            turn_id: turn_id.to_string(),
            item_id: self.item.id.clone(),
        };
        let finished = run_to_end(target, request, cancel).await;
        let end = if finished.cancelled {
            ItemEnd {
                exit_code: Some(-1),
                output: ABORTED.to_string(),
                duration: finished.duration,
                status: CommandExecutionStatus::Failed,
            }
        } else {
            ItemEnd::of(&finished)
        };
        UserCommandEnd {
            item: self.item.ended(None, &end),
            record: self.record(&finished, &end),
            cancelled: finished.cancelled,
        }
    }

    /// The `<user_shell_command>` message body.
    fn record(&self, finished: &Finished, end: &ItemEnd) -> String {
        let mut output = String::new();
        if finished.timed_out {
            output.push_str(&format!(
                "command timed out after {} milliseconds\n",
                finished.duration.as_millis()
            ));
        }
        output.push_str(&end.output);
        let output =
            codex_exec::truncate_middle(&output, TruncationPolicy::Bytes(MODEL_OUTPUT_BYTES));
        format!(
            "<user_shell_command>\n<command>\n{}\n</command>\n<result>\nExit code: {}\nDuration: {:.4} seconds\nOutput:\n{output}\n</result>\n</user_shell_command>",
            self.script,
            end.exit_code.unwrap_or(-1),
            finished.duration.as_secs_f64(),
        )
    }
}
