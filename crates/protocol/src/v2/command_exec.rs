//! Processes outside the model's turn loop: the `command/exec` family (a client runs a command
//! in the agent's sandbox, optionally on a terminal, streaming its output and feeding its
//! stdin), `thread/shellCommand` (the user's own command, run in a thread as a turn), and the
//! `item/commandExecution/terminalInteraction` notification (input the model typed into one of
//! its terminal sessions).
//!
//! A `command/exec` `processId` is chosen by the client and scoped to its connection; it names
//! the command in `command/exec/write`, `command/exec/resize`, `command/exec/terminate` and in
//! every `command/exec/outputDelta`.

use super::common::SandboxPolicy;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Rows and columns of a `command/exec` terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecTerminalSize {
    /// Terminal height in character cells.
    pub rows: u16,
    /// Terminal width in character cells.
    pub cols: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecParams {
    /// Program and arguments; an empty list is rejected.
    pub command: Vec<String>,
    /// Working directory; defaults to the server's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Overrides of the server-computed environment; `null` unsets a variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, Option<String>>>,
    /// Kill the command after this long (exit code 124); default 10 s. Not with
    /// `disableTimeout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_timeout: Option<bool>,
    /// The sandbox to run in; defaults to the configured one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_policy: Option<SandboxPolicy>,
    /// Run on a pseudo-terminal (implies `streamStdin` and `streamStdoutStderr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tty: Option<bool>,
    /// Initial terminal size; only with `tty`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<CommandExecTerminalSize>,
    /// Accept `command/exec/write` for this command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_stdin: Option<bool>,
    /// Send output as `command/exec/outputDelta` (then not repeated in the response).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_stdout_stderr: Option<bool>,
    /// Client-chosen id, required for `tty`, streaming and the follow-up methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_id: Option<String>,
    /// Bytes captured per stream; default 1 MiB. Not with `disableOutputCap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes_cap: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_output_cap: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecResponse {
    /// 124 after a timeout, 137 after `command/exec/terminate`.
    pub exit_code: i32,
    /// Empty when stdout was streamed.
    pub stdout: String,
    /// Empty when stderr was streamed.
    pub stderr: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecWriteParams {
    pub process_id: String,
    /// Bytes to write to stdin, base64-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_base64: Option<String>,
    /// Close stdin after writing (on a terminal: type end-of-file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_stdin: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommandExecWriteResponse {}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecTerminateParams {
    pub process_id: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommandExecTerminateResponse {}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecResizeParams {
    pub process_id: String,
    pub size: CommandExecTerminalSize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CommandExecResizeResponse {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CommandExecOutputStream {
    Stdout,
    Stderr,
}

/// One chunk of a streamed `command/exec`, sent only to the connection that started it and
/// always before the `command/exec` response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandExecOutputDeltaNotification {
    pub process_id: String,
    /// A terminal sends everything as `stdout`.
    pub stream: CommandExecOutputStream,
    pub delta_base64: String,
    /// This stream reached `outputBytesCap` with this chunk; nothing more comes from it.
    pub cap_reached: bool,
}

/// `item/commandExecution/terminalInteraction`: the model wrote `stdin` to the terminal
/// session `processId` of the `commandExecution` item `itemId`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TerminalInteractionNotification {
    pub thread_id: String,
    pub turn_id: String,
    pub item_id: String,
    pub process_id: String,
    pub stdin: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadShellCommandParams {
    pub thread_id: String,
    /// A shell script, run by the user's shell without a sandbox (the user typed it).
    pub command: String,
    /// Kill it after this long; default one hour. Zero times out at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ThreadShellCommandResponse {}
