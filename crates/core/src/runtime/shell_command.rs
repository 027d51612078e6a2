//! `thread/shellCommand`: the user's own command, run in a thread as a turn of its own (see
//! `turn::user_shell`), without a sandbox since the user typed it.

use super::Runtime;
use crate::error::CoreError;
use crate::identity::Caller;
use crate::reply::Reply;
use crate::thread::TurnKind;
use crate::tools::UserCommand;
use crate::turn::{TurnLaunch, TurnRequest};
use codex_protocol::v2::{ThreadShellCommandParams, ThreadShellCommandResponse};
use std::time::Duration;

/// How long a user command may run when the request sets no `timeoutMs` (as official).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);

impl Runtime {
    /// `thread/shellCommand`: answers `{}`, then runs the command as a turn.
    pub async fn shell_command(
        &self,
        caller: &Caller,
        p: ThreadShellCommandParams,
        reply: Reply<ThreadShellCommandResponse>,
    ) {
        match self.prepare_shell_command(caller, p).await {
            Ok(launch) => {
                if reply.send(Ok(ThreadShellCommandResponse {})).await {
                    launch.launch();
                }
            }
            Err(e) => {
                reply.send(Err(e)).await;
            }
        }
    }

    async fn prepare_shell_command(
        &self,
        caller: &Caller,
        p: ThreadShellCommandParams,
    ) -> Result<TurnLaunch, CoreError> {
        if p.command.trim().is_empty() {
            return Err(CoreError::InvalidRequest(
                "command must not be empty".into(),
            ));
        }
        let timeout = match p.timeout_ms {
            None => DEFAULT_TIMEOUT,
            Some(ms) => Duration::from_millis(u64::try_from(ms).map_err(|_| {
                CoreError::InvalidParams(format!(
                    "thread/shellCommand timeoutMs must be non-negative, got {ms}"
                ))
            })?),
        };
        let thread = self.load(&p.thread_id).await?;
        let mut st = thread.state.lock().await;
        if st.active.is_some() {
            return Err(CoreError::InvalidRequest(format!(
                "thread {} has a running turn; run the shell command when it completes",
                p.thread_id
            )));
        }
        let command = UserCommand::new(&p.command, st.settings.cwd.clone(), timeout);
        Ok(self.begin_turn(
            caller,
            &thread,
            &mut st,
            TurnKind::Shell,
            TurnRequest::Shell(command),
        ))
    }
}
