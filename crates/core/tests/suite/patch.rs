//! apply_patch: the shell heredoc, the freeform tool, the turn diff, writable roots, approval.

use super::harness::Harness;
use codex_mock_model::{assistant_message, custom_tool_call, function_call};
use serde_json::json;

/// workspace-write limited to the workspace itself (the temp dirs live under /tmp).
fn workspace_only() -> serde_json::Value {
    json!({"sandboxPolicy": {
        "type": "workspaceWrite", "writableRoots": [], "networkAccess": false,
        "excludeTmpdirEnvVar": true, "excludeSlashTmp": true
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heredoc_through_exec_command_becomes_a_file_change() {
    let mut h = Harness::new().await;
    let thread = h.thread(json!({"approvalPolicy": "never"})).await;
    h.mock.enqueue(function_call(
        "r1",
        "call_patch_1",
        "exec_command",
        &json!({"cmd": "apply_patch <<'PATCH'\n*** Begin Patch\n*** Add File: hello.txt\n+hello from apply_patch\n*** End Patch\nPATCH\n", "login": false, "tty": false}),
    ));
    h.mock.enqueue(assistant_message("r2", "Added hello.txt."));
    h.turn_with(&thread, "go", workspace_only()).await;
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("hello.txt")).unwrap(),
        "hello from apply_patch\n"
    );
    assert!(h.items("item/started", "commandExecution").is_empty());
    let expected_changes = json!([{
        "path": h.cwd.join("hello.txt").display().to_string(),
        "kind": {"type": "add"},
        "diff": "hello from apply_patch\n"
    }]);
    let started = &h.items("item/started", "fileChange")[0];
    assert_eq!(started["id"], "call_patch_1");
    assert_eq!(started["status"], "inProgress");
    assert_eq!(started["changes"], expected_changes);
    let done = &h.items("item/completed", "fileChange")[0];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["changes"], expected_changes);
    let diff = h.seen("turn/diff/updated")[0]["diff"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        diff,
        "diff --git a/hello.txt b/hello.txt\nnew file mode 100644\n--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+hello from apply_patch\n"
    );
    let out = h.output_text("call_patch_1");
    let (outer, inner) = out.split_once("\nOutput:\n").unwrap();
    assert!(
        outer.starts_with("Wall time: ") && outer.ends_with(" seconds"),
        "{out}"
    );
    assert!(inner.starts_with("Exit code: 0\nWall time: "), "{out}");
    assert!(
        inner.ends_with(" seconds\nOutput:\nSuccess. Updated the following files:\nA hello.txt\n"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeform_tool_updates_and_the_turn_diff_accumulates() {
    let mut h = Harness::new().await;
    std::fs::write(h.cwd.join("notes.txt"), "alpha\nbeta\ngamma\n").unwrap();
    let thread = h
        .thread(json!({"approvalPolicy": "on-request", "model": "gpt-5.1-codex"}))
        .await;
    h.mock.enqueue(custom_tool_call(
        "r1",
        "p1",
        "apply_patch",
        "*** Begin Patch\n*** Update File: notes.txt\n@@\n alpha\n-beta\n+BETA\n gamma\n*** End Patch",
    ));
    h.mock.enqueue(custom_tool_call(
        "r2",
        "p2",
        "apply_patch",
        "*** Begin Patch\n*** Add File: sub/new.txt\n+x\n*** Update File: notes.txt\n@@\n-alpha\n+ALPHA\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r3", "ok"));
    h.turn_with(&thread, "go", workspace_only()).await;
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("notes.txt")).unwrap(),
        "ALPHA\nBETA\ngamma\n"
    );
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("sub/new.txt")).unwrap(),
        "x\n"
    );
    let tools = &h.model_requests()[0]["tools"];
    assert!(tools
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "apply_patch" && t["type"] == "custom"));
    let first = &h.items("item/completed", "fileChange")[0];
    assert_eq!(
        first["changes"][0]["kind"],
        json!({"type": "update", "move_path": null})
    );
    assert_eq!(
        first["changes"][0]["diff"],
        "@@ -1,3 +1,3 @@\n alpha\n-beta\n+BETA\n gamma\n"
    );
    let out = h.output_for("p2");
    assert_eq!(out["type"], "custom_tool_call_output");
    let text = out["output"].as_str().unwrap();
    assert!(text.starts_with("Exit code: 0\n"), "{text}");
    assert!(
        text.ends_with("Success. Updated the following files:\nA sub/new.txt\nM notes.txt\n"),
        "{text}"
    );
    let diffs = h.seen("turn/diff/updated");
    assert_eq!(diffs.len(), 2);
    let last = diffs[1]["diff"].as_str().unwrap();
    // Against the content before the turn's first change, both edits together.
    assert!(
        last.contains("--- a/notes.txt\n+++ b/notes.txt\n@@ -1,3 +1,3 @@\n-alpha\n-beta\n+ALPHA\n+BETA\n gamma\n"),
        "{last}"
    );
    assert!(
        last.contains("diff --git a/sub/new.txt b/sub/new.txt\nnew file mode 100644\n"),
        "{last}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_outside_the_workspace_are_refused_under_never() {
    let mut h = Harness::new().await;
    let thread = h.thread(json!({"approvalPolicy": "never"})).await;
    h.mock.enqueue(custom_tool_call(
        "r1",
        "p1",
        "apply_patch",
        "*** Begin Patch\n*** Add File: ../outside/evil.txt\n+x\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn_with(&thread, "go", workspace_only()).await;
    h.turn_completed().await;
    assert!(!h.outside.join("evil.txt").exists());
    assert_eq!(
        h.output_text("p1"),
        "patch rejected: writing outside of the project; rejected by user approval settings"
    );
    assert!(h.items("item/started", "fileChange").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_write_asks_under_on_request_and_decline_keeps_files() {
    let mut h = Harness::new().await;
    let thread = h.thread(json!({"approvalPolicy": "on-request"})).await;
    h.mock.enqueue(custom_tool_call(
        "r1",
        "p1",
        "apply_patch",
        "*** Begin Patch\n*** Add File: ../outside/asked.txt\n+x\n*** End Patch",
    ));
    h.mock.enqueue(custom_tool_call(
        "r2",
        "p2",
        "apply_patch",
        "*** Begin Patch\n*** Add File: ../outside/ok.txt\n+y\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r3", "ok"));
    let turn_id = h.turn_with(&thread, "go", workspace_only()).await;
    let (id, method, params) = h.request().await;
    assert_eq!(method, "item/fileChange/requestApproval");
    assert_eq!(params["itemId"], "p1");
    assert_eq!(params["turnId"], turn_id);
    assert!(params["startedAtMs"].is_i64());
    h.reply(id, json!({"decision": "decline"}));
    let (id, _, params) = h.request().await;
    assert_eq!(params["itemId"], "p2");
    h.reply(id, json!({"decision": "accept"}));
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert!(!h.outside.join("asked.txt").exists());
    assert_eq!(
        std::fs::read_to_string(h.outside.join("ok.txt")).unwrap(),
        "y\n"
    );
    assert_eq!(h.output_text("p1"), "patch rejected by user");
    let done = h.items("item/completed", "fileChange");
    assert_eq!(done[0]["status"], "declined");
    assert_eq!(done[1]["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_asks_for_patches_and_remembers_paths_for_the_session() {
    let mut h = Harness::new().await;
    let thread = h.thread(json!({"approvalPolicy": "untrusted"})).await;
    let patch =
        |line: &str| format!("*** Begin Patch\n*** Add File: a.txt\n+{line}\n*** End Patch");
    h.mock
        .enqueue(custom_tool_call("r1", "p1", "apply_patch", &patch("one")));
    h.mock.enqueue(custom_tool_call(
        "r2",
        "p2",
        "apply_patch",
        "*** Begin Patch\n*** Update File: a.txt\n@@\n-one\n+two\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r3", "ok"));
    h.turn_with(&thread, "go", workspace_only()).await;
    let (id, method, _) = h.request().await;
    assert_eq!(method, "item/fileChange/requestApproval");
    h.reply(id, json!({"decision": "acceptForSession"}));
    assert_eq!(h.turn_completed().await["status"], "completed");
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("a.txt")).unwrap(),
        "two\n"
    );
    let asked = h
        .log
        .iter()
        .filter(|m| m.get("id").is_some() && m.get("method").is_some())
        .count();
    assert_eq!(asked, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_patch_is_reported_without_touching_files() {
    let mut h = Harness::new().await;
    std::fs::write(h.cwd.join("f.txt"), "one\n").unwrap();
    let thread = h.thread(json!({"approvalPolicy": "never"})).await;
    h.mock.enqueue(custom_tool_call(
        "r1",
        "p1",
        "apply_patch",
        "*** Begin Patch\n*** Update File: f.txt\n@@\n-missing\n+x\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn_with(&thread, "go", workspace_only()).await;
    h.turn_completed().await;
    let out = h.output_text("p1");
    assert!(
        out.starts_with("apply_patch verification failed: "),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("f.txt")).unwrap(),
        "one\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeform_patch_moves_a_file() {
    let mut h = Harness::new().await;
    std::fs::write(h.cwd.join("a.txt"), "keep\nold\n").unwrap();
    let thread = h
        .thread(json!({"approvalPolicy": "never", "model": "gpt-5.1-codex"}))
        .await;
    h.mock.enqueue(custom_tool_call(
        "r1",
        "mv1",
        "apply_patch",
        "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n@@\n keep\n-old\n+new\n*** End Patch",
    ));
    h.mock.enqueue(assistant_message("r2", "moved"));
    h.turn_with(&thread, "go", workspace_only()).await;
    assert_eq!(h.turn_completed().await["status"], "completed");

    assert!(!h.cwd.join("a.txt").exists(), "the source must be gone");
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("b.txt")).unwrap(),
        "keep\nnew\n"
    );
    let done = h.items("item/completed", "fileChange");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["id"], "mv1");
    assert_eq!(done[0]["status"], "completed");
    let changes = done[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        changes[0]["path"],
        h.cwd.join("a.txt").display().to_string()
    );
    assert_eq!(
        changes[0]["kind"],
        json!({"type": "update", "move_path": h.cwd.join("b.txt").display().to_string()})
    );
    assert_eq!(changes[0]["diff"], "@@ -1,2 +1,2 @@\n keep\n-old\n+new\n");
    let out = h.output_text("mv1");
    assert!(out.starts_with("Exit code: 0\n"), "{out}");
    assert!(out.contains("M b.txt\n"), "{out}");
    let diffs = h.seen("turn/diff/updated");
    assert!(!diffs.is_empty(), "a turn/diff/updated for the move");
    let last = diffs.last().unwrap()["diff"].as_str().unwrap();
    // The diff shows the source losing `old` and the destination holding `new` (as a rename
    // or as a delete plus an add).
    assert!(last.contains("--- a/a.txt\n"), "{last}");
    assert!(last.contains("+++ b/b.txt\n"), "{last}");
    assert!(last.contains("\n-old\n"), "{last}");
    assert!(last.contains("\n+new\n"), "{last}");
}
