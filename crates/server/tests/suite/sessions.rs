//! The model's terminal sessions (`exec_command` with `tty`, `write_stdin`) through the
//! JSON-RPC surface: a REPL driven as a model drives it, under no sandbox and under
//! workspace-write; a long command polled to its exit; interrupts, the session limit, and no
//! process outliving its thread.

use super::harness::{text_input, Env, Server};
use super::procs::{
    calls, output_of, pids_with, require_sandbox, session_id_in, unique_sleep, wait_for_count,
};
use codex_mock_model::{
    assistant_message, ev_created, ev_message_item_added, ev_output_text_delta, function_call,
    message_events, Reply,
};
use codex_protocol::methods::{
    ItemCompleted, ItemStarted, Notification, TerminalInteraction, ThreadArchive, ThreadRead,
    TurnInterrupt, TurnStart,
};
use serde_json::{json, Value};

fn full_access() -> Value {
    json!({"approvalPolicy": "never", "sandbox": "danger-full-access"})
}

/// Starts a turn with `text` and extra `turn/start` params; returns the turn id.
async fn turn_with(server: &mut Server, thread: &str, extra: Value) -> String {
    let mut params = json!({"threadId": thread, "input": text_input("go")});
    if let (Some(dst), Some(src)) = (params.as_object_mut(), extra.as_object()) {
        dst.extend(src.clone());
    }
    let r = server.call::<TurnStart>(params).await;
    r["turn"]["id"].as_str().expect("turn id").to_string()
}

/// Runs a turn to its end; returns the turn id.
async fn run_turn(server: &mut Server, thread: &str, extra: Value) -> String {
    let turn = turn_with(server, thread, extra).await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    turn
}

/// Every `item/completed` (params) seen so far whose item has this id.
fn completions(server: &Server, item_id: &str) -> Vec<Value> {
    server
        .log
        .iter()
        .filter(|m| m["method"] == ItemCompleted::NAME && m["params"]["item"]["id"] == item_id)
        .map(|m| m["params"].clone())
        .collect()
}

/// The `item/started` item with this id.
fn started_item(server: &Server, item_id: &str) -> Value {
    server
        .log
        .iter()
        .find(|m| m["method"] == ItemStarted::NAME && m["params"]["item"]["id"] == item_id)
        .map(|m| m["params"]["item"].clone())
        .unwrap_or_else(|| panic!("no item/started for {item_id}"))
}

/// The output deltas of an item, joined.
fn streamed(server: &Server, item_id: &str) -> String {
    server
        .log
        .iter()
        .filter(|m| {
            m["method"] == "item/commandExecution/outputDelta" && m["params"]["itemId"] == item_id
        })
        .map(|m| {
            m["params"]["delta"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Waits for the `item/completed` of `item_id` and returns its item.
async fn wait_completed(server: &mut Server, item_id: &str) -> Value {
    let id = item_id.to_string();
    server
        .wait_for(&format!("item/completed {item_id}"), move |m| {
            m["method"] == ItemCompleted::NAME && m["params"]["item"]["id"] == id
        })
        .await["params"]["item"]
        .clone()
}

/// Drives `python3 -i` on a terminal the way a model does: starts it, reads the session id
/// from the first output, types `print(6*7)` and then `exit()`. `turn_params` choose the
/// sandbox; `extra_input` is typed after the print (for sandbox checks). Returns the session
/// id and the output of the print.
async fn drive_repl(
    env: &Env,
    server: &mut Server,
    thread: &str,
    turn_params: Value,
    extra_input: &str,
) -> (i64, String) {
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "python3 -i", "tty": true, "yield_time_ms": 2000}),
    ));
    env.mock.enqueue(assistant_message("r2", "The REPL is up."));
    let first_turn = run_turn(server, thread, turn_params.clone()).await;
    let first = output_of(env, "c1");
    let id = session_id_in(&first).unwrap_or_else(|| panic!("no session id in {first:?}"));
    // The id the model sees is the item's processId.
    let item = started_item(server, "c1");
    assert_eq!(item["processId"], id.to_string());
    assert_eq!(item["command"], "/bin/bash -lc 'python3 -i'");
    assert_eq!(item["source"], "unifiedExecStartup");
    assert!(
        completions(server, "c1").is_empty(),
        "the REPL is still running"
    );

    let chars = format!("print(6*7)\n{extra_input}");
    env.mock.enqueue(function_call(
        "r3",
        "c2",
        "write_stdin",
        &json!({"session_id": id, "chars": chars, "yield_time_ms": 2000}),
    ));
    env.mock.enqueue(assistant_message("r4", "42 it is."));
    let second_turn = run_turn(server, thread, turn_params.clone()).await;
    let printed = output_of(env, "c2");
    assert!(
        printed.contains(&format!("\nProcess running with session ID {id}\n")),
        "{printed}"
    );
    // A terminal echoes the input and ends lines in \r\n.
    assert!(printed.contains("print(6*7)\r\n42\r\n"), "{printed}");
    let typed = server.notification::<TerminalInteraction>().await;
    assert_eq!(
        typed,
        json!({"threadId": thread, "turnId": second_turn, "itemId": "c1",
               "processId": id.to_string(), "stdin": chars})
    );

    env.mock.enqueue(calls(
        "r5",
        &[(
            "c3".to_string(),
            "write_stdin",
            json!({"session_id": id, "chars": "exit()\n", "yield_time_ms": 5000}),
        )],
    ));
    env.mock.enqueue(function_call(
        "r6",
        "c4",
        "write_stdin",
        &json!({"session_id": id, "chars": ""}),
    ));
    env.mock.enqueue(assistant_message("r7", "Closed it."));
    run_turn(server, thread, turn_params).await;
    let exited = output_of(env, "c3");
    assert!(
        exited.contains("\nProcess exited with code 0\n"),
        "{exited}"
    );
    assert_eq!(
        output_of(env, "c4"),
        format!("write_stdin failed: Unknown process id {id}")
    );
    // One item for the whole session, completed once, under the turn that started it.
    let done = completions(server, "c1");
    assert_eq!(done.len(), 1, "{done:#?}");
    assert_eq!(done[0]["turnId"], first_turn);
    let item = &done[0]["item"];
    assert_eq!(item["status"], "completed");
    assert_eq!(item["exitCode"], 0);
    assert_eq!(item["processId"], id.to_string());
    let all = item["aggregatedOutput"].as_str().unwrap();
    assert!(all.contains("print(6*7)\r\n42\r\n"), "{all}");
    assert!(all.ends_with("exit()\r\n"), "{all}");
    assert_eq!(streamed(server, "c1"), all);
    (id, printed)
}

#[tokio::test]
async fn a_python_repl_driven_by_the_model_answers_42() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    drive_repl(&env, &mut server, &thread, json!({}), "").await;
    // The session's item is part of the thread's record, in the turn that started it.
    let read = server
        .call::<ThreadRead>(json!({"threadId": thread, "includeTurns": true}))
        .await;
    let first_turn_items = &read["thread"]["turns"][0]["items"];
    assert!(
        first_turn_items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == "c1" && i["status"] == "completed"),
        "{first_turn_items:#}"
    );
}

#[tokio::test]
async fn the_repl_also_runs_inside_the_workspace_write_sandbox() {
    require_sandbox();
    let env = Env::new().await;
    let outside = tempfile::tempdir().unwrap();
    let mut server = env.server(&[]).await;
    let thread = server
        .start_thread_with(json!({"approvalPolicy": "never"}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The temp dirs live under /tmp: exclude it so that "outside" is outside.
    let sandbox = json!({"sandboxPolicy": {"type": "workspaceWrite", "writableRoots": [],
        "networkAccess": false, "excludeTmpdirEnvVar": true, "excludeSlashTmp": true}});
    let blocked = outside.path().join("blocked.txt");
    let extra = format!(
        "open('inside.txt', 'w').write('in')\nopen('{}', 'w').write('out')\n",
        blocked.display()
    );
    let (_, printed) = drive_repl(&env, &mut server, &thread, sandbox, &extra).await;
    assert!(env.work.path().join("inside.txt").exists(), "{printed}");
    assert!(!blocked.exists(), "{printed}");
    assert!(
        printed.contains("PermissionError") || printed.contains("OSError"),
        "{printed}"
    );
}

#[tokio::test]
async fn a_long_command_is_polled_to_its_exit() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "echo start; sleep 2; echo end", "login": false, "yield_time_ms": 250}),
    ));
    env.mock.enqueue(function_call(
        "r2",
        "c2",
        "write_stdin",
        &json!({"session_id": 1000, "chars": "", "yield_time_ms": 30000}),
    ));
    env.mock.enqueue(function_call(
        "r3",
        "c3",
        "write_stdin",
        &json!({"session_id": 1000, "chars": "more\n"}),
    ));
    env.mock.enqueue(assistant_message("r4", "done"));
    let turn = turn_with(&mut server, &thread, json!({})).await;
    let done = server.turn_completed(&turn).await;
    let first = output_of(&env, "c1");
    assert!(
        first.contains("\nProcess running with session ID 1000\n"),
        "{first}"
    );
    // The empty poll returns as soon as the command exits, with only the new output.
    let polled = output_of(&env, "c2");
    assert!(
        polled.contains("\nProcess exited with code 0\n"),
        "{polled}"
    );
    let output = |text: &str| text.split_once("\nOutput:\n").unwrap().1.to_string();
    assert_eq!(output(&first) + &output(&polled), "start\nend\n");
    assert_eq!(
        output_of(&env, "c3"),
        "write_stdin failed: Unknown process id 1000"
    );
    // The poll that saw the exit completed the item: it is in the turn's items.
    let item = completions(&server, "c1")[0]["item"].clone();
    assert_eq!(item["aggregatedOutput"], "start\nend\n");
    assert_eq!(item["status"], "completed");
    assert!(done["turn"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["id"] == "c1" && i["status"] == "completed"));
}

#[tokio::test]
async fn a_session_holds_at_most_its_caps_and_says_what_it_dropped() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 3 MB, then the last line: more than the session keeps (1 MiB unread, 1 MiB in all).
    let cmd = "sleep 0.5; head -c 3000000 /dev/zero | tr '\\0' a; echo; echo tail-end";
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": cmd, "login": false, "yield_time_ms": 250}),
    ));
    env.mock.enqueue(function_call(
        "r2",
        "c2",
        "write_stdin",
        &json!({"session_id": 1000, "chars": "x", "yield_time_ms": 250}),
    ));
    env.mock.enqueue(function_call(
        "r3",
        "c3",
        "write_stdin",
        &json!({"session_id": 1000, "chars": "", "yield_time_ms": 30000}),
    ));
    env.mock.enqueue(assistant_message("r4", "done"));
    run_turn(&mut server, &thread, json!({})).await;
    // A session without a terminal takes no input (and no interaction is announced).
    let refused = output_of(&env, "c2");
    assert!(
        refused.starts_with("write_stdin failed: stdin is closed"),
        "{refused}"
    );
    assert!(!server
        .log
        .iter()
        .any(|m| m["method"] == TerminalInteraction::NAME));
    let polled = output_of(&env, "c3");
    assert!(
        polled.contains("\nProcess exited with code 0\n"),
        "{polled}"
    );
    assert!(polled.ends_with("\ntail-end\n"), "{polled}");
    assert!(polled.contains("tokens truncated"), "{polled}");
    let item = completions(&server, "c1")[0]["item"].clone();
    let all = item["aggregatedOutput"].as_str().unwrap();
    assert!(all.len() <= 1024 * 1024 + 100, "{}", all.len());
    assert!(all.contains(" bytes omitted ...]"), "{}", &all[..200]);
    assert!(all.ends_with("\ntail-end\n"));
}

#[tokio::test]
async fn an_interrupt_kills_the_sessions_of_its_turn_and_archiving_kills_the_rest() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (earlier, later) = (unique_sleep(), unique_sleep());
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": earlier, "login": false, "tty": true, "yield_time_ms": 250}),
    ));
    env.mock.enqueue(assistant_message("r2", "started"));
    run_turn(&mut server, &thread, json!({})).await;
    wait_for_count(&earlier, 1).await;

    // The next turn starts another session, then streams a reply that waits for the test.
    env.mock.enqueue(function_call(
        "r3",
        "c2",
        "exec_command",
        &json!({"cmd": later, "login": false, "tty": true, "yield_time_ms": 250}),
    ));
    env.mock.enqueue(Reply::Gated {
        before: vec![
            ev_created("r4"),
            ev_message_item_added("msg_r4"),
            ev_output_text_delta("msg_r4", "thinking"),
        ],
        gate: env.mock.gate(),
        after: message_events("r4", &["thinking"])[4..].to_vec(),
    });
    let turn = turn_with(&mut server, &thread, json!({})).await;
    wait_for_count(&later, 1).await;
    env.wait_model_requests(4).await;
    server
        .call::<TurnInterrupt>(json!({"threadId": thread, "turnId": turn}))
        .await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "interrupted");
    wait_for_count(&later, 0).await;
    let killed = wait_completed(&mut server, "c2").await;
    assert_eq!(killed["status"], "failed");
    assert_eq!(killed["exitCode"], 128 + 9);
    // The earlier turn's session is not the interrupted turn's: it lives on.
    assert_eq!(pids_with(&earlier).len(), 1);
    assert!(completions(&server, "c1").is_empty());

    // Archiving unloads the thread, and its last session dies with it.
    server
        .call::<ThreadArchive>(json!({"threadId": thread}))
        .await;
    wait_for_count(&earlier, 0).await;
}

#[tokio::test]
async fn the_least_recently_used_session_is_closed_beyond_the_limit() {
    const LIMIT: usize = 64;
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sleep = unique_sleep();
    let start = |n: usize| {
        (
            format!("c{n}"),
            "exec_command",
            json!({"cmd": sleep, "login": false, "yield_time_ms": 250}),
        )
    };
    // One session, then enough to fill the table, then one more: the first is the least
    // recently used, so it is the one closed.
    env.mock.enqueue(calls("r1", &[start(0)]));
    env.mock
        .enqueue(calls("r2", &(1..LIMIT).map(start).collect::<Vec<_>>()));
    env.mock.enqueue(calls("r3", &[start(LIMIT)]));
    env.mock.enqueue(function_call(
        "r4",
        "poll",
        "write_stdin",
        &json!({"session_id": 1000, "chars": ""}),
    ));
    env.mock.enqueue(assistant_message("r5", "done"));
    run_turn(&mut server, &thread, json!({})).await;
    assert_eq!(
        output_of(&env, "poll"),
        "write_stdin failed: Unknown process id 1000"
    );
    let closed = wait_completed(&mut server, "c0").await;
    assert_eq!(closed["status"], "failed");
    assert_eq!(closed["processId"], "1000");
    wait_for_count(&sleep, LIMIT).await;
    assert!(completions(&server, &format!("c{LIMIT}")).is_empty());
    server
        .call::<ThreadArchive>(json!({"threadId": thread}))
        .await;
    wait_for_count(&sleep, 0).await;
}

#[tokio::test]
async fn no_session_or_command_outlives_the_server() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread_with(full_access()).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (session, command) = (unique_sleep(), unique_sleep());
    env.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": format!("{session} & {session}; wait"), "login": false, "tty": true,
                "yield_time_ms": 250}),
    ));
    env.mock.enqueue(assistant_message("r2", "started"));
    run_turn(&mut server, &thread, json!({})).await;
    let exec = server
        .request(
            "command/exec",
            json!({"command": ["sh", "-c", format!("{command} & {command}; wait")],
                   "processId": "forever", "streamStdoutStderr": true, "disableTimeout": true,
                   "sandboxPolicy": {"type": "dangerFullAccess"}}),
        )
        .await;
    // Each is a shell and two sleeps.
    wait_for_count(&session, 3).await;
    wait_for_count(&command, 3).await;
    let exit = server.close_and_wait().await;
    assert_eq!(exit.code(), Some(0));
    wait_for_count(&session, 0).await;
    wait_for_count(&command, 0).await;
    // The command's request was answered before the server went away.
    let answer = server.response(&exec).await;
    assert_eq!(answer["result"]["exitCode"], 128 + 9, "{answer}");
}
