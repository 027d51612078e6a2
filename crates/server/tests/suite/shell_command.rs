//! `thread/shellCommand` through the JSON-RPC surface: the user's command runs unsandboxed as
//! a turn with one `userShell` item, and the next model request carries what it did.

use super::harness::{input_texts, Env, Server};
use super::procs::{unique_sleep, wait_for_count};
use codex_mock_model::assistant_message;
use codex_protocol::methods::{
    ItemCompleted, ItemStarted, Method, ThreadShellCommand, TurnInterrupt, TurnStarted,
};
use serde_json::{json, Value};

/// Sends `thread/shellCommand` (answered `{}` first) and returns the turn it started.
async fn shell(server: &mut Server, thread: &str, params: Value) -> String {
    let mut p = json!({"threadId": thread});
    if let (Some(dst), Some(src)) = (p.as_object_mut(), params.as_object()) {
        dst.extend(src.clone());
    }
    assert_eq!(server.call::<ThreadShellCommand>(p).await, json!({}));
    let started = server.notification::<TurnStarted>().await;
    started["turn"]["id"].as_str().unwrap().to_string()
}

async fn read_only_thread(server: &mut Server) -> String {
    server
        .start_thread_with(json!({"approvalPolicy": "never", "sandbox": "read-only"}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The output of `echo hi; echo err >&2`, one line from each stream.
const BOTH_ORDERS: [&str; 2] = ["hi\nerr\n", "err\nhi\n"];

#[tokio::test]
async fn a_user_command_runs_unsandboxed_as_a_turn_and_the_model_hears_of_it() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = read_only_thread(&mut server).await;
    let script = "echo made > made.txt; echo hi; echo err >&2; exit 3";
    let turn = shell(&mut server, &thread, json!({"command": script})).await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    // Unsandboxed although the thread is read-only: the user typed it.
    assert_eq!(
        std::fs::read_to_string(env.work.path().join("made.txt")).unwrap(),
        "made\n"
    );
    let started = server.notification::<ItemStarted>().await["item"].clone();
    assert_eq!(started["type"], "commandExecution");
    assert_eq!(started["source"], "userShell");
    assert_eq!(started["status"], "inProgress");
    assert_eq!(started["command"], format!("/bin/bash -lc '{script}'"));
    assert_eq!(started["processId"], Value::Null);
    let item = server.notification::<ItemCompleted>().await["item"].clone();
    assert_eq!(item["id"], started["id"]);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["exitCode"], 3);
    // stdout and stderr come through two pipes: their lines are exact, their order between
    // the two streams is whichever the reader saw first (CI once saw "err\nhi\n").
    let output = item["aggregatedOutput"].as_str().unwrap().to_string();
    assert!(BOTH_ORDERS.contains(&output.as_str()), "{output:?}");
    assert_eq!(done["turn"]["items"], json!([item]));
    // No model request for the command itself; the next one carries it.
    assert!(env.model_requests().is_empty());
    env.mock.enqueue(assistant_message("r1", "noted"));
    server.run_turn(&thread, "what happened?").await;
    let texts = input_texts(&env.model_requests()[0]);
    let record = texts
        .iter()
        .find(|t| t.starts_with("<user_shell_command>"))
        .unwrap_or_else(|| panic!("{texts:#?}"));
    let (head, duration_and_rest) = record.split_once("Duration: ").unwrap();
    assert_eq!(
        head,
        format!("<user_shell_command>\n<command>\n{script}\n</command>\n<result>\nExit code: 3\n")
    );
    // The record carries the output as the item showed it.
    assert!(
        duration_and_rest.ends_with(&format!(
            " seconds\nOutput:\n{output}\n</result>\n</user_shell_command>"
        )),
        "{record}"
    );
    // It comes before the user's next message.
    let position = |needle: &str| texts.iter().position(|t| t.contains(needle)).unwrap();
    assert!(position("<user_shell_command>") < position("what happened?"));
}

#[tokio::test]
async fn a_timeout_ends_the_command_with_124() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = read_only_thread(&mut server).await;
    let sleep = unique_sleep();
    // User commands run in a login shell. The timeout is long enough for the shell to be past
    // its profile when it fires: a login shell killed inside `pyenv rehash` (this machine's
    // profile) leaves a lock behind that stalls every later login shell for a minute.
    let turn = shell(
        &mut server,
        &thread,
        json!({"command": format!("echo before; {sleep}"), "timeoutMs": 5000}),
    )
    .await;
    wait_for_count(&sleep, 1).await;
    server.turn_completed(&turn).await;
    let item = server.notification::<ItemCompleted>().await["item"].clone();
    assert_eq!(item["exitCode"], 124);
    assert_eq!(item["status"], "failed");
    assert_eq!(item["aggregatedOutput"], "before\n");
    wait_for_count(&sleep, 0).await;
}

#[tokio::test]
async fn an_interrupt_kills_the_command_and_is_recorded() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = read_only_thread(&mut server).await;
    let sleep = unique_sleep();
    let turn = shell(&mut server, &thread, json!({"command": sleep})).await;
    // Interrupted only once the login shell is past its profile (see the timeout test).
    wait_for_count(&sleep, 1).await;
    // No new turn while the command runs.
    let err = server
        .call_err(
            ThreadShellCommand::NAME,
            json!({"threadId": thread, "command": "true"}),
        )
        .await;
    assert_eq!(err["code"], -32600, "{err}");
    server
        .call::<TurnInterrupt>(json!({"threadId": thread, "turnId": turn}))
        .await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "interrupted");
    wait_for_count(&sleep, 0).await;
    let item = server.notification::<ItemCompleted>().await["item"].clone();
    assert_eq!(item["aggregatedOutput"], "command aborted by user");
    assert_eq!(item["status"], "failed");
    env.mock.enqueue(assistant_message("r1", "ok"));
    server.run_turn(&thread, "next").await;
    let texts = input_texts(&env.model_requests()[0]);
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("<user_shell_command>") && t.contains("command aborted by user")),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn bad_requests_are_refused() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = read_only_thread(&mut server).await;
    for (params, code, message) in [
        (
            json!({"threadId": thread, "command": "  "}),
            -32600,
            "command must not be empty",
        ),
        (
            json!({"threadId": thread, "command": "true", "timeoutMs": -5}),
            -32602,
            "thread/shellCommand timeoutMs must be non-negative, got -5",
        ),
        (
            json!({"threadId": "no-such-thread", "command": "true"}),
            -32600,
            "thread not found",
        ),
    ] {
        let err = server.call_err(ThreadShellCommand::NAME, params).await;
        assert_eq!(err["code"], code, "{err}");
        assert!(err["message"].as_str().unwrap().contains(message), "{err}");
    }
}
