//! `exec_command`, `write_stdin`, `shell_command`: items, outputs, sessions, interrupts, sandbox.

use super::harness::{calls, eventually, Harness};
use codex_mock_model::{assistant_message, function_call};
use serde_json::json;

fn full_access() -> serde_json::Value {
    json!({"approvalPolicy": "never", "sandbox": "danger-full-access"})
}

/// `Chunk ID: xxxxxx\nWall time: N.NNNN seconds\n` followed by `rest`.
fn assert_unified(text: &str, rest: &str) {
    let lines: Vec<&str> = text.splitn(3, '\n').collect();
    assert!(
        lines[0].starts_with("Chunk ID: ") && lines[0].len() == 16,
        "{text}"
    );
    assert!(
        lines[1].starts_with("Wall time: ") && lines[1].ends_with(" seconds"),
        "{text}"
    );
    assert_eq!(lines[2], rest, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_command_item_and_output_match_the_official_shape() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    h.mock.enqueue(function_call(
        "r1",
        "call_shell_1",
        "exec_command",
        &json!({"cmd": "echo hi > out.txt && cat out.txt", "login": false, "tty": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "The file says hi."));
    h.turn(&thread, "Run the tool, please.").await;
    let turn = h.turn_completed().await;
    assert_eq!(turn["status"], "completed");

    let started = h.items("item/started", "commandExecution");
    let completed = h.items("item/completed", "commandExecution");
    assert_eq!((started.len(), completed.len()), (1, 1));
    let (s, c) = (&started[0], &completed[0]);
    assert_eq!(s["id"], "call_shell_1");
    assert_eq!(
        s["command"],
        "/bin/bash -c 'echo hi > out.txt && cat out.txt'"
    );
    assert_eq!(s["cwd"], h.cwd.display().to_string());
    assert_eq!(s["source"], "unifiedExecStartup");
    assert_eq!(s["status"], "inProgress");
    assert!(s["processId"].is_string());
    assert_eq!(
        s["commandActions"],
        json!([{"type": "unknown", "command": "echo hi > out.txt && cat out.txt"}])
    );
    assert!(s["aggregatedOutput"].is_null() && s["exitCode"].is_null());
    assert_eq!(c["status"], "completed");
    assert_eq!(c["aggregatedOutput"], "hi\n");
    assert_eq!(c["exitCode"], 0);
    assert!(c["durationMs"].is_i64());
    assert_eq!(c["processId"], s["processId"]);

    assert_eq!(
        std::fs::read_to_string(h.cwd.join("out.txt")).unwrap(),
        "hi\n"
    );
    assert_unified(
        &h.output_text("call_shell_1"),
        "Process exited with code 0\nOriginal token count: 1\nOutput:\nhi\n",
    );
    let tools: Vec<String> = h.model_requests()[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tools,
        ["exec_command", "write_stdin", "update_plan", "view_image"]
    );
    // The completed command is part of the turn's items.
    let read = h
        .runtime
        .read_thread(
            serde_json::from_value(json!({"threadId": thread, "includeTurns": true})).unwrap(),
        )
        .await
        .unwrap();
    let items = serde_json::to_value(&read.thread.turns[0].items).unwrap();
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "commandExecution" && i["status"] == "completed"),
        "{items:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_command_is_failed_and_streams_output() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "echo oops; exit 3", "login": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "done"));
    h.turn(&thread, "go").await;
    h.turn_completed().await;
    let c = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(c["status"], "failed");
    assert_eq!(c["exitCode"], 3);
    assert_eq!(c["aggregatedOutput"], "oops\n");
    let deltas = h.seen("item/commandExecution/outputDelta");
    let streamed: String = deltas
        .iter()
        .map(|d| {
            assert_eq!(d["itemId"], "c1");
            d["delta"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(streamed, "oops\n");
    assert_unified(
        &h.output_text("c1"),
        "Process exited with code 3\nOriginal token count: 2\nOutput:\noops\n",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_command_becomes_a_session_polled_by_write_stdin() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    // Process ids count from 1000 per thread, so the first session is 1000.
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "echo start; sleep 0.6; echo done", "login": false, "yield_time_ms": 250}),
    ));
    h.mock.enqueue(function_call(
        "r2",
        "c2",
        "write_stdin",
        &json!({"session_id": 1000, "chars": "y\n"}),
    ));
    h.mock.enqueue(function_call(
        "r3",
        "c3",
        "write_stdin",
        &json!({"session_id": 1000, "chars": ""}),
    ));
    h.mock.enqueue(function_call(
        "r4",
        "c4",
        "write_stdin",
        &json!({"session_id": 1000}),
    ));
    h.mock.enqueue(assistant_message("r5", "done"));
    h.turn(&thread, "go").await;
    h.turn_completed().await;
    let reqs = h.model_requests();
    assert_eq!(reqs.len(), 5);
    let out = |i: usize, call: &str| -> String {
        reqs[i]["input"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["call_id"] == call && x["type"] == "function_call_output")
            .unwrap()["output"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = out(1, "c1");
    assert!(
        first.contains("\nProcess running with session ID 1000\n"),
        "{first}"
    );
    assert!(first.ends_with("Output:\nstart\n"), "{first}");
    let refused = out(2, "c2");
    assert!(refused.starts_with("write_stdin failed:"), "{refused}");
    assert!(refused.contains("stdin"), "{refused}");
    let polled = out(3, "c3");
    assert!(
        polled.contains("\nProcess exited with code 0\n"),
        "{polled}"
    );
    assert!(polled.ends_with("Output:\ndone\n"), "{polled}");
    let gone = out(4, "c4");
    assert_eq!(gone, "write_stdin failed: Unknown process id 1000");
    // The item completes once the exit is observed, with the whole output.
    let c = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(c["id"], "c1");
    assert_eq!(c["status"], "completed");
    assert_eq!(c["aggregatedOutput"], "start\ndone\n");
    assert_eq!(c["processId"], "1000");
}

fn proc_cmdlines_containing(needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return hits;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(raw) = std::fs::read(e.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&raw).replace('\0', " ");
            if text.contains(needle) {
                hits.push(format!("{}: {text}", name.to_string_lossy()));
            }
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_kills_the_whole_process_tree() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    let marker = format!("31{}.5", std::process::id());
    let cmd = format!("sh -c 'sleep {marker}' & sleep {marker}; wait");
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": cmd, "login": false, "yield_time_ms": 30000}),
    ));
    let turn_id = h.turn(&thread, "go").await;
    h.until(|m| m["method"] == "item/started" && m["params"]["item"]["type"] == "commandExecution")
        .await;
    // Both sleeps (the background one in its own sh) are running.
    eventually("both sleeps to start", || {
        proc_cmdlines_containing(&format!("sleep {marker}")).len() >= 3
    })
    .await;
    h.interrupt(&thread, &turn_id).await;
    let turn = h.turn_completed().await;
    assert_eq!(turn["status"], "interrupted");
    eventually("the process tree to die", || {
        proc_cmdlines_containing(&marker).is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_command_for_older_models_with_timeout() {
    let mut h = Harness::new().await;
    let thread = h
        .thread(json!({"approvalPolicy": "never", "sandbox": "danger-full-access", "model": "o3"}))
        .await;
    h.mock.enqueue(calls(
        "r1",
        &[
            (
                "c1",
                "shell_command",
                json!({"command": "echo hi", "login": false}),
            ),
            (
                "c2",
                "shell_command",
                json!({"command": "sleep 20", "login": false, "timeout_ms": 300}),
            ),
        ],
    ));
    h.mock.enqueue(assistant_message("r2", "done"));
    h.turn(&thread, "go").await;
    h.turn_completed().await;
    let tools: Vec<String> = h.model_requests()[0]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        tools,
        ["shell_command", "update_plan", "apply_patch", "view_image"]
    );
    let ok = h.output_text("c1");
    assert!(ok.starts_with("Exit code: 0\nWall time: "), "{ok}");
    assert!(ok.ends_with(" seconds\nOutput:\nhi\n"), "{ok}");
    let slow = h.output_text("c2");
    assert!(slow.starts_with("Exit code: 124\n"), "{slow}");
    assert!(slow.contains("command timed out after"), "{slow}");
    let items = h.items("item/completed", "commandExecution");
    let timed = items.iter().find(|i| i["id"] == "c2").unwrap();
    assert_eq!(timed["status"], "failed");
    assert_eq!(timed["source"], "agent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sandbox_blocks_writes_or_refuses_when_unavailable() {
    super::harness::require_sandbox();
    let mut h = Harness::new().await;
    let thread = h
        .thread(json!({"approvalPolicy": "never", "sandbox": "read-only"}))
        .await;
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "touch blocked.txt", "login": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "done"));
    h.turn(&thread, "go").await;
    h.turn_completed().await;
    let out = h.output_text("c1");
    let c = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(c["status"], "failed");
    assert!(!h.cwd.join("blocked.txt").exists());
    assert!(!out.contains("Process exited with code 0"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_deltas_add_up_to_the_aggregated_output_first_chunk_included() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    // The command prints its first line, then waits (bounded) for the test to have seen that
    // line as a delta before printing the rest: the first chunk is streamed on its own, while
    // the command still runs, and the output arrives in several chunks.
    let script = "echo line1; for i in $(seq 1500); do [ -f go ] && break; sleep 0.02; done; \
                  for i in 2 3; do echo line$i; sleep 0.05; done";
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": script, "login": false, "yield_time_ms": 30000}),
    ));
    h.mock.enqueue(assistant_message("r2", "done"));
    h.turn(&thread, "go").await;
    let first = h.notification("item/commandExecution/outputDelta").await;
    assert_eq!(first["itemId"], "c1");
    assert_eq!(first["delta"], "line1\n");
    assert!(
        h.items("item/completed", "commandExecution").is_empty(),
        "the first chunk must stream while the command runs"
    );
    std::fs::write(h.cwd.join("go"), "").unwrap();
    assert_eq!(h.turn_completed().await["status"], "completed");
    let deltas = h.seen("item/commandExecution/outputDelta");
    assert!(deltas.len() >= 2, "{deltas:#?}");
    let streamed: String = deltas
        .iter()
        .map(|d| {
            assert_eq!(d["itemId"], "c1");
            d["delta"].as_str().unwrap().to_string()
        })
        .collect();
    let done = &h.items("item/completed", "commandExecution")[0];
    assert_eq!(done["aggregatedOutput"], "line1\nline2\nline3\n");
    assert_eq!(streamed, done["aggregatedOutput"].as_str().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_as_the_command_starts_never_lets_it_finish() {
    let mut h = Harness::new().await;
    let thread = h.thread(full_access()).await;
    let marker = h.cwd.join("marker");
    h.mock.enqueue(function_call(
        "r1",
        "c1",
        "exec_command",
        &json!({"cmd": "sleep 0.3; touch marker", "login": false, "yield_time_ms": 30000}),
    ));
    let turn_id = h.turn(&thread, "go").await;
    h.until(|m| m["method"] == "item/started" && m["params"]["item"]["type"] == "commandExecution")
        .await;
    h.interrupt(&thread, &turn_id).await;
    assert_eq!(h.turn_completed().await["status"], "interrupted");
    // Had the command survived, `touch` would run 0.3 s after it started; watch for 1 s.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
    while tokio::time::Instant::now() < deadline {
        tick.tick().await;
        assert!(
            !marker.exists(),
            "the interrupted command ran to completion"
        );
    }
    // Only the one model request: nothing went back to the model after the interrupt.
    assert_eq!(h.model_requests().len(), 1);
}
