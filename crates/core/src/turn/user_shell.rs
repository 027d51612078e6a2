//! A `thread/shellCommand` turn: the user's command as one `commandExecution` item, and a
//! `<user_shell_command>` user message in the history, so the model's next request sees what
//! ran and what it printed. No model request is made.

use super::outcome::Outcome;
use super::recorder::Recorder;
use crate::rollout;
use crate::tools::UserCommand;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Runs `command` as the turn's only item; an interrupt kills it and still records it.
pub async fn run(rec: &mut Recorder, command: UserCommand, cancel: &CancellationToken) -> Outcome {
    let started_ms = command.item.started_ms;
    rec.emit_item_started(&command.item.started(None), started_ms)
        .await;
    let end = command
        .run(
            rec.sink.clone(),
            &rec.thread_id.clone(),
            &rec.turn_id.clone(),
            cancel.child_token(),
        )
        .await;
    rec.complete_item(end.item, started_ms).await;
    let record =
        rollout::user_message_item(vec![json!({"type": "input_text", "text": end.record})]);
    rec.record_history(vec![record]).await;
    if end.cancelled {
        Outcome::Interrupted
    } else {
        Outcome::Completed
    }
}
