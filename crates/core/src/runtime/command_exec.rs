//! The `command/exec` family: a client runs a command in the agent's sandbox (the configured
//! one unless the request names another), optionally on a terminal, streaming its output and
//! feeding its stdin. The processes live in a [`codex_exec::ProcessRegistry`] per connection,
//! because their `processId`s are chosen by, and scoped to, the connection: two clients may
//! use the same id, and a connection's commands die with it.

use super::Runtime;
use crate::error::CoreError;
use crate::identity::Caller;
use crate::reply::Reply;
use crate::settings::ThreadSettings;
use crate::sink::Origin;
use crate::tools::{command_env, command_policy};
use base64::Engine;
use codex_exec::{
    CommandExecError, CommandExecEvent, CommandExecRequest, OutputStream, ProcessRegistry,
    TerminalSize,
};
use codex_protocol::methods as m;
use codex_protocol::v2::*;
use std::sync::Arc;

/// The error answer for a refused `command/exec*` request: field errors are -32602, state
/// errors (ids, stdin) -32600, failures to spawn or control the process -32603.
fn refused(e: CommandExecError) -> CoreError {
    match e {
        CommandExecError::NegativeTimeout(ms) => CoreError::InvalidParams(format!(
            "command/exec timeoutMs must be non-negative, got {ms}"
        )),
        CommandExecError::SizeWithoutTty
        | CommandExecError::InvalidSize
        | CommandExecError::TimeoutConflict
        | CommandExecError::OutputCapConflict => CoreError::InvalidParams(e.to_string()),
        CommandExecError::EmptyCommand
        | CommandExecError::ProcessIdRequired
        | CommandExecError::DuplicateProcessId(_)
        | CommandExecError::UnknownProcessId(_)
        | CommandExecError::StdinNotStreamed
        | CommandExecError::StdinClosed
        | CommandExecError::NotATerminal(_) => CoreError::InvalidRequest(e.to_string()),
        CommandExecError::Spawn(_) | CommandExecError::Control { .. } => {
            CoreError::Internal(e.to_string())
        }
    }
}

fn terminal_size(size: CommandExecTerminalSize) -> TerminalSize {
    TerminalSize {
        rows: size.rows,
        cols: size.cols,
    }
}

impl Runtime {
    /// `command/exec`: starts the command and returns; a task of the runtime then sends its
    /// streamed output to the calling connection as `command/exec/outputDelta`, and answers
    /// once it has exited (all deltas first). The process is registered when this returns, so
    /// a `command/exec/write` read after it finds it.
    ///
    /// # Cancellation
    /// The command runs until it exits, times out, is terminated, or its connection closes
    /// ([`Runtime::release_connection`]); a shutdown waits (bounded) for the answer.
    pub async fn command_exec(
        &self,
        caller: &Caller,
        p: CommandExecParams,
        reply: Reply<CommandExecResponse>,
    ) {
        let request = match self.command_exec_request(p) {
            Ok(request) => request,
            Err(e) => {
                reply.send(Err(e)).await;
                return;
            }
        };
        let registry = self.inner.commands.registry(caller.origin);
        let events = match registry.start(request) {
            Ok(events) => events,
            Err(e) => {
                reply.send(Err(refused(e))).await;
                return;
            }
        };
        let sink = self.inner.sink.with_origin(caller.origin);
        self.inner.tasks.spawn(forward_command(events, sink, reply));
    }

    /// The exec crate's request for `p`: the configured sandbox unless `p` names one, the
    /// server's working directory unless `p` names one, the server-computed environment with
    /// `p`'s overrides.
    fn command_exec_request(&self, p: CommandExecParams) -> Result<CommandExecRequest, CoreError> {
        let default_cwd = &self.inner.options.default_cwd;
        let sandbox = match &p.sandbox_policy {
            Some(policy) => command_policy(policy),
            None => command_policy(
                &ThreadSettings::from_config(&self.current_settings(), default_cwd.clone())?
                    .sandbox,
            ),
        };
        let mut env = command_env(!sandbox.has_full_network_access());
        for (key, value) in p.env.unwrap_or_default() {
            match value {
                Some(value) => env.insert(key, value),
                None => env.remove(&key),
            };
        }
        let output_bytes_cap = match p.output_bytes_cap {
            Some(cap) => Some(usize::try_from(cap).map_err(|_| {
                CoreError::InvalidParams(format!("command/exec outputBytesCap is too large: {cap}"))
            })?),
            None => None,
        };
        Ok(CommandExecRequest {
            command: p.command,
            cwd: match p.cwd {
                Some(cwd) => default_cwd.join(cwd),
                None => default_cwd.clone(),
            },
            env,
            sandbox,
            timeout_ms: p.timeout_ms,
            disable_timeout: p.disable_timeout.unwrap_or(false),
            tty: p.tty.unwrap_or(false),
            size: p.size.map(terminal_size),
            stream_stdin: p.stream_stdin.unwrap_or(false),
            stream_stdout_stderr: p.stream_stdout_stderr.unwrap_or(false),
            process_id: p.process_id,
            output_bytes_cap,
            disable_output_cap: p.disable_output_cap.unwrap_or(false),
        })
    }

    /// The calling connection's registry, or the "unknown process" error for `process_id`.
    fn command_registry(
        &self,
        caller: &Caller,
        process_id: &str,
    ) -> Result<Arc<ProcessRegistry>, CoreError> {
        self.inner
            .commands
            .existing(caller.origin)
            .ok_or_else(|| refused(CommandExecError::UnknownProcessId(process_id.to_string())))
    }

    /// `command/exec/write`: writes to the command's stdin, then closes it when asked.
    ///
    /// # Errors
    /// An unknown id, a command started without `streamStdin`, closed stdin, or bytes that are
    /// not base64.
    pub async fn command_exec_write(
        &self,
        caller: &Caller,
        p: CommandExecWriteParams,
    ) -> Result<CommandExecWriteResponse, CoreError> {
        let bytes = match &p.delta_base64 {
            Some(text) => base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| CoreError::InvalidParams(format!("`deltaBase64`: {e}")))?,
            None => Vec::new(),
        };
        self.command_registry(caller, &p.process_id)?
            .write(&p.process_id, &bytes, p.close_stdin.unwrap_or(false))
            .await
            .map_err(refused)?;
        Ok(CommandExecWriteResponse {})
    }

    /// `command/exec/resize`: answers once the new size is in effect.
    ///
    /// # Errors
    /// An unknown id, a command without a terminal, or a zero dimension.
    pub fn command_exec_resize(
        &self,
        caller: &Caller,
        p: CommandExecResizeParams,
    ) -> Result<CommandExecResizeResponse, CoreError> {
        self.command_registry(caller, &p.process_id)?
            .resize(&p.process_id, terminal_size(p.size))
            .map_err(refused)?;
        Ok(CommandExecResizeResponse {})
    }

    /// `command/exec/terminate`: kills the command's process group; it answers 137.
    ///
    /// # Errors
    /// An unknown id.
    pub fn command_exec_terminate(
        &self,
        caller: &Caller,
        p: CommandExecTerminateParams,
    ) -> Result<CommandExecTerminateResponse, CoreError> {
        self.command_registry(caller, &p.process_id)?
            .terminate(&p.process_id)
            .map_err(refused)?;
        Ok(CommandExecTerminateResponse {})
    }

    /// The connection `origin` is gone: its commands are killed (their ids named nothing
    /// anyone else could address).
    pub fn release_connection(&self, origin: Origin) {
        self.inner.commands.release(Some(origin));
    }
}

/// Sends a command's output deltas, then its result as the answer.
async fn forward_command(
    mut events: tokio::sync::mpsc::Receiver<CommandExecEvent>,
    sink: crate::sink::Sink,
    reply: Reply<CommandExecResponse>,
) {
    while let Some(event) = events.recv().await {
        match event {
            CommandExecEvent::Output(delta) => {
                sink.notify::<m::CommandExecOutputDelta>(&CommandExecOutputDeltaNotification {
                    process_id: delta.process_id,
                    stream: match delta.stream {
                        OutputStream::Stdout => CommandExecOutputStream::Stdout,
                        OutputStream::Stderr => CommandExecOutputStream::Stderr,
                    },
                    delta_base64: base64::engine::general_purpose::STANDARD.encode(&delta.bytes),
                    cap_reached: delta.cap_reached,
                })
                .await;
            }
            CommandExecEvent::Finished(result) => {
                reply
                    .send(Ok(CommandExecResponse {
                        exit_code: result.exit_code,
                        stdout: result.stdout,
                        stderr: result.stderr,
                    }))
                    .await;
                return;
            }
        }
    }
    reply
        .send(Err(CoreError::Internal(
            "the command ended without reporting its exit".into(),
        )))
        .await;
}
