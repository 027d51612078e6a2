//! A command run to its end (or its timeout, or its cancellation) through `codex_exec::run`,
//! with its output streamed as deltas of an item: the `shell_command` tool and the user's
//! `thread/shellCommand`. Terminal sessions that outlive a call are in `sessions`.

use super::command_deltas::{pumped, spawn_pump, DeltaTarget, DELTA_QUEUE};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long the item's completion waits for the last deltas to go out.
const PUMP_WAIT: Duration = Duration::from_secs(5);

/// How a command ended.
#[derive(Clone, Debug)]
pub struct Finished {
    pub exit_code: i32,
    pub aggregated: String,
    pub duration: Duration,
    pub timed_out: bool,
    /// Set when the command could not be run (spawn failure, sandbox error).
    pub error: Option<String>,
    /// `cancel` fired and the process group was killed.
    pub cancelled: bool,
}

impl Finished {
    /// A command that never ran.
    pub fn not_run(error: String) -> Finished {
        Finished {
            exit_code: -1,
            aggregated: String::new(),
            duration: Duration::ZERO,
            timed_out: false,
            error: Some(error),
            cancelled: false,
        }
    }
}

/// Runs `request` to its end, streaming its output to `target`. Every delta is sent before
/// this returns. When `cancel` fires the process group is killed and reaped first.
pub async fn run_to_end(
    target: DeltaTarget,
    request: codex_exec::ExecRequest,
    cancel: CancellationToken,
) -> Finished {
    let (tx, rx) = mpsc::channel(DELTA_QUEUE);
    let pump = spawn_pump(target, rx);
    let result = codex_exec::run(request, Some(tx), cancel).await;
    pumped(pump, PUMP_WAIT).await;
    match result {
        Ok(out) => Finished {
            exit_code: out.exit_code,
            aggregated: out.aggregated_output,
            duration: out.duration,
            timed_out: out.timed_out,
            error: None,
            cancelled: false,
        },
        Err(codex_exec::ExecError::Cancelled { partial }) => Finished {
            exit_code: partial.exit_code,
            aggregated: partial.aggregated_output,
            duration: partial.duration,
            timed_out: false,
            error: None,
            cancelled: true,
        },
        Err(e) => Finished::not_run(e.to_string()),
    }
}
