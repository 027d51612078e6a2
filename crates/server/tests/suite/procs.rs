//! Helpers for tests about processes: unique commands to find in /proc, bounded waits for them
//! to appear or vanish, the model's view of a session (its id, its outputs), and the kernel
//! sandbox check.

use super::harness::{Env, WAIT};
use codex_mock_model::{ev_completed, ev_created, ev_function_call_item, Reply, Usage};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// `sleep <n>` with a duration no other process uses (this test process's pid and a counter),
/// so /proc can tell its processes apart from every other test's.
pub fn unique_sleep() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    format!(
        "sleep 900.{}{:03}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Pids of live processes whose command line contains `needle`.
pub fn pids_with(needle: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // A zombie has an empty command line, so only running processes match.
        if let Ok(raw) = std::fs::read(entry.path().join("cmdline")) {
            if String::from_utf8_lossy(&raw)
                .replace('\0', " ")
                .contains(needle)
            {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Waits (bounded) until exactly `n` live processes match `needle`.
pub async fn wait_for_count(needle: &str, n: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tick.tick().await;
        let found = pids_with(needle).len();
        if found == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {n} processes matching {needle:?}; found {found}"
        );
    }
}

/// Fails (not skips) where the Landlock sandbox is missing: CI machines have it.
pub fn require_sandbox() {
    let support = codex_exec::sandbox_support();
    assert!(
        support.available,
        "this test needs the Landlock sandbox, which is unavailable here: {:?}",
        support.reason
    );
}

/// One model response made of these function calls `(call_id, name, arguments)`.
pub fn calls(response_id: &str, calls: &[(String, &str, Value)]) -> Reply {
    let mut events = vec![ev_created(response_id)];
    for (id, name, args) in calls {
        events.push(ev_function_call_item(id, name, args));
    }
    events.push(ev_completed(response_id, Usage::default()));
    Reply::Sse(events)
}

/// The text the model got back for `call_id` (from the last request that carries it).
pub fn output_of(env: &Env, call_id: &str) -> String {
    env.model_requests()
        .iter()
        .rev()
        .find_map(|body| {
            body["input"].as_array()?.iter().find_map(|item| {
                (item["type"] == "function_call_output" && item["call_id"] == call_id)
                    .then(|| item["output"].as_str().map(str::to_string))
                    .flatten()
            })
        })
        .unwrap_or_else(|| panic!("no output for {call_id} reached the model"))
}

/// The session id in an `exec_command` / `write_stdin` result, read as a model reads it.
pub fn session_id_in(text: &str) -> Option<i64> {
    let rest = text.split("Process running with session ID ").nth(1)?;
    rest.lines().next()?.trim().parse().ok()
}
