//! The mapper fed with app-server notifications in their wire form (decoded by the protocol's
//! typed enum, as the event source does), compared with whole exec lines.

use super::*;
use serde_json::{json, Value};

fn n(method: &str, params: Value) -> ServerNotification {
    ServerNotification::decode(method, Some(params)).unwrap()
}

fn turn(status: &str, error: Value) -> Value {
    json!({"threadId": "th", "turn": {"id": "tu", "items": [], "status": status, "error": error,
        "startedAt": 1, "completedAt": 2, "durationMs": 5}})
}

fn item(method: &str, item: Value) -> ServerNotification {
    n(
        method,
        json!({"threadId": "th", "turnId": "tu", "startedAtMs": 1, "completedAtMs": 2, "item": item}),
    )
}

fn lines(mapper: &mut EventMapper, notes: &[ServerNotification]) -> Vec<Value> {
    notes
        .iter()
        .flat_map(|note| mapper.map(note))
        .map(|e| serde_json::from_str(&e.to_line()).unwrap())
        .collect()
}

fn command(status: &str, output: Value, exit: Value) -> Value {
    json!({"type": "commandExecution", "id": "call_1", "command": "bash -lc 'echo hi; echo oops >&2'",
        "cwd": "/w", "processId": null, "source": "agent", "status": status, "commandActions": [],
        "aggregatedOutput": output, "exitCode": exit, "durationMs": null})
}

#[test]
fn a_tool_turn_reads_like_the_official_exec_stream() {
    let mut m = EventMapper::new();
    let usage = |input: i64| {
        n(
            "thread/tokenUsage/updated",
            json!({"threadId": "th", "turnId": "tu", "tokenUsage": {
                "total": {"totalTokens": 0, "inputTokens": 0, "cachedInputTokens": 0, "outputTokens": 0, "reasoningOutputTokens": 0},
                "last": {"totalTokens": input + 7, "inputTokens": input, "cachedInputTokens": 20, "outputTokens": 7, "reasoningOutputTokens": 1},
                "modelContextWindow": null}}),
        )
    };
    let patch = json!({"type": "fileChange", "id": "call_2", "status": "inProgress",
        "changes": [{"path": "/w/a.txt", "kind": {"type": "add"}, "diff": "x\n"},
                    {"path": "/w/b.txt", "kind": {"type": "update", "move_path": null}, "diff": ""}]});
    let mut patch_done = patch.clone();
    patch_done["status"] = json!("completed");
    let got = lines(
        &mut m,
        &[
            n("turn/started", turn("inProgress", Value::Null)),
            item(
                "item/started",
                json!({"type": "userMessage", "id": "u1", "content": [], "clientId": null}),
            ),
            item(
                "item/completed",
                json!({"type": "reasoning", "id": "rs", "summary": ["**Plan** it"], "content": []}),
            ),
            item(
                "item/started",
                command("inProgress", Value::Null, Value::Null),
            ),
            n(
                "item/commandExecution/outputDelta",
                json!({"threadId": "th", "turnId": "tu", "itemId": "call_1", "delta": "hi\n"}),
            ),
            item(
                "item/completed",
                command("completed", json!("hi\noops\n"), json!(0)),
            ),
            usage(100),
            item("item/started", patch),
            item("item/completed", patch_done),
            item(
                "item/started",
                json!({"type": "agentMessage", "id": "m1", "text": "", "phase": null, "memoryCitation": null}),
            ),
            item(
                "item/completed",
                json!({"type": "agentMessage", "id": "m1", "text": "Done.", "phase": null, "memoryCitation": null}),
            ),
            usage(200),
            n("turn/completed", turn("completed", Value::Null)),
        ],
    );
    assert_eq!(
        got,
        vec![
            json!({"type": "turn.started"}),
            json!({"type": "item.completed", "item": {"id": "item_0", "type": "reasoning", "text": "**Plan** it"}}),
            json!({"type": "item.started", "item": {"id": "item_1", "type": "command_execution",
                "command": "bash -lc 'echo hi; echo oops >&2'", "aggregated_output": "", "exit_code": null, "status": "in_progress"}}),
            json!({"type": "item.completed", "item": {"id": "item_1", "type": "command_execution",
                "command": "bash -lc 'echo hi; echo oops >&2'", "aggregated_output": "hi\noops\n", "exit_code": 0, "status": "completed"}}),
            json!({"type": "item.started", "item": {"id": "item_2", "type": "file_change",
                "changes": [{"path": "/w/a.txt", "kind": "add"}, {"path": "/w/b.txt", "kind": "update"}], "status": "in_progress"}}),
            json!({"type": "item.completed", "item": {"id": "item_2", "type": "file_change",
                "changes": [{"path": "/w/a.txt", "kind": "add"}, {"path": "/w/b.txt", "kind": "update"}], "status": "completed"}}),
            json!({"type": "item.completed", "item": {"id": "item_3", "type": "agent_message", "text": "Done."}}),
            json!({"type": "turn.completed", "usage": {"input_tokens": 300, "cached_input_tokens": 40,
                "cache_write_input_tokens": 0, "output_tokens": 14, "reasoning_output_tokens": 2}}),
        ]
    );
    assert_eq!(m.final_message(), Some("Done."));
    assert_eq!(m.outcome(), Some(&TurnOutcome::Completed));
}

#[test]
fn a_nonzero_exit_or_declined_command_is_failed_and_a_failed_patch_too() {
    let mut m = EventMapper::new();
    let got = lines(
        &mut m,
        &[
            item("item/completed", command("completed", json!("x"), json!(3))),
            item(
                "item/completed",
                command("declined", Value::Null, Value::Null),
            ),
            item(
                "item/completed",
                json!({"type": "fileChange", "id": "p", "status": "declined", "changes": []}),
            ),
        ],
    );
    let statuses: Vec<&Value> = got.iter().map(|l| &l["item"]["status"]).collect();
    assert_eq!(
        statuses,
        [&json!("failed"), &json!("failed"), &json!("failed")]
    );
    assert_eq!(got[0]["item"]["exit_code"], json!(3));
    assert_eq!(got[1]["item"]["aggregated_output"], json!(""));
    // Items completed without a start still get fresh, ordered ids.
    let ids: Vec<&Value> = got.iter().map(|l| &l["item"]["id"]).collect();
    assert_eq!(ids, [&json!("item_0"), &json!("item_1"), &json!("item_2")]);
}

#[test]
fn plan_updates_are_one_todo_list_completed_at_turn_end() {
    let mut m = EventMapper::new();
    let plan = |second: &str| {
        n(
            "turn/plan/updated",
            json!({"threadId": "th", "turnId": "tu", "explanation": null, "plan": [
                {"step": "one", "status": "completed"}, {"step": "two", "status": second}]}),
        )
    };
    let got = lines(
        &mut m,
        &[
            plan("inProgress"),
            plan("completed"),
            n("turn/completed", turn("completed", Value::Null)),
        ],
    );
    let todo = |done: bool| {
        json!({"id": "item_0", "type": "todo_list", "items": [
            {"text": "one", "completed": true}, {"text": "two", "completed": done}]})
    };
    assert_eq!(got[0], json!({"type": "item.started", "item": todo(false)}));
    assert_eq!(got[1], json!({"type": "item.updated", "item": todo(true)}));
    assert_eq!(
        got[2],
        json!({"type": "item.completed", "item": todo(true)})
    );
    assert_eq!(got[3]["type"], "turn.completed");
    assert_eq!(
        got[3]["usage"],
        json!({"input_tokens": 0, "cached_input_tokens": 0, "cache_write_input_tokens": 0,
            "output_tokens": 0, "reasoning_output_tokens": 0}),
        "usage is an object even when nothing was counted"
    );
}

#[test]
fn a_failed_turn_ends_with_error_then_turn_failed_carrying_the_same_message() {
    let body = r#"{"error":{"message":"bad request"}}"#;
    let error = |will_retry: bool, message: &str| {
        n(
            "error",
            json!({"threadId": "th", "turnId": "tu", "willRetry": will_retry,
                "error": {"message": message, "codexErrorInfo": null, "additionalDetails": null}}),
        )
    };
    let turn_error =
        json!({"message": body, "codexErrorInfo": "badRequest", "additionalDetails": null});
    let mut m = EventMapper::new();
    let got = lines(
        &mut m,
        &[
            error(true, "Reconnecting... 1/5"),
            error(false, body),
            n("turn/completed", turn("failed", turn_error.clone())),
        ],
    );
    assert_eq!(
        got,
        vec![
            json!({"type": "item.completed", "item": {"id": "item_0", "type": "error", "message": "Reconnecting... 1/5"}}),
            json!({"type": "error", "message": body}),
            json!({"type": "turn.failed", "error": {"message": body}}),
        ]
    );
    assert_eq!(m.outcome(), Some(&TurnOutcome::Failed(body.to_string())));

    // Without an `error` notification first, the mapper still prints the pair.
    let mut m = EventMapper::new();
    let got = lines(&mut m, &[n("turn/completed", turn("failed", turn_error))]);
    assert_eq!(got[0], json!({"type": "error", "message": body}));
    assert_eq!(
        got[1],
        json!({"type": "turn.failed", "error": {"message": body}})
    );
}

#[test]
fn an_interrupted_turn_fails_with_a_fixed_message() {
    let mut m = EventMapper::new();
    let got = lines(
        &mut m,
        &[n("turn/completed", turn("interrupted", Value::Null))],
    );
    assert_eq!(
        got,
        vec![
            json!({"type": "error", "message": INTERRUPTED_MESSAGE}),
            json!({"type": "turn.failed", "error": {"message": INTERRUPTED_MESSAGE}}),
        ]
    );
    assert_eq!(m.outcome(), Some(&TurnOutcome::Interrupted));
}

#[test]
fn warnings_become_error_items() {
    let mut m = EventMapper::new();
    let got = lines(
        &mut m,
        &[
            n("warning", json!({"threadId": null, "message": "careful"})),
            n(
                "configWarning",
                json!({"summary": "no sandbox", "details": "Landlock missing"}),
            ),
        ],
    );
    assert_eq!(
        got[0]["item"],
        json!({"id": "item_0", "type": "error", "message": "careful"})
    );
    assert_eq!(
        got[1]["item"]["message"],
        json!("no sandbox\nLandlock missing")
    );
}
