//! The kernel sandbox seen through the turn engine: workspace-write lets commands write the
//! workspace, refuses writes outside the writable roots, and cuts the network unless enabled.

use super::harness::Harness;
use codex_mock_model::{assistant_message, function_call};
use serde_json::{json, Value};

/// workspace-write whose only writable root is the workspace: the harness temp dirs live under
/// /tmp (and maybe $TMPDIR), so both are excluded to make "outside" really outside.
fn workspace_write(network: bool, extra_roots: &[String]) -> Value {
    json!({"approvalPolicy": "never", "sandboxPolicy": {
        "type": "workspaceWrite", "writableRoots": extra_roots, "networkAccess": network,
        "excludeTmpdirEnvVar": true, "excludeSlashTmp": true
    }})
}

/// Runs `cmd` through `exec_command` in a fresh turn with `turn_params`; returns the completed
/// `commandExecution` item and the text sent back to the model.
async fn run_command(
    h: &mut Harness,
    thread: &str,
    cmd: &str,
    turn_params: Value,
) -> (Value, String) {
    let n = h.model_requests().len();
    let call_id = format!("call_{n}");
    h.mock.enqueue(function_call(
        &format!("r{n}a"),
        &call_id,
        "exec_command",
        &json!({"cmd": cmd, "login": false}),
    ));
    h.mock.enqueue(assistant_message(&format!("r{n}b"), "done"));
    h.turn_with(thread, "go", turn_params).await;
    let turn = h.turn_completed().await;
    assert_eq!(turn["status"], "completed", "{turn:#}");
    let item = h
        .items("item/completed", "commandExecution")
        .into_iter()
        .find(|i| i["id"] == call_id.as_str())
        .expect("completed command item");
    (item, h.output_text(&call_id))
}

/// A command that connects to the mock model's TCP port and prints `connected`.
fn connect_script(h: &Harness) -> String {
    let port = h.mock.addr().port();
    format!(
        "python3 -c \"import socket; s=socket.socket(); s.connect(('127.0.0.1', {port})); print('connected')\""
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_is_cut_under_workspace_write_unless_enabled() {
    super::harness::require_sandbox();
    let mut h = Harness::new().await;
    let thread = h.thread(json!({})).await;
    let script = connect_script(&h);

    let (item, out) = run_command(&mut h, &thread, &script, workspace_write(false, &[])).await;
    assert_eq!(item["status"], "failed", "{item:#}");
    assert!(!out.contains("connected"), "{out}");
    assert_ne!(item["exitCode"], 0, "{item:#}");
    let text = item["aggregatedOutput"].as_str().unwrap().to_lowercase();
    assert!(
        text.contains("operation not permitted") || text.contains("permission denied"),
        "{text}"
    );

    let (item, out) = run_command(&mut h, &thread, &script, workspace_write(true, &[])).await;
    assert_eq!(item["status"], "completed", "{item:#} {out}");
    assert_eq!(item["aggregatedOutput"], "connected\n");

    let full = json!({"approvalPolicy": "never", "sandboxPolicy": {"type": "dangerFullAccess"}});
    let (item, out) = run_command(&mut h, &thread, &script, full).await;
    assert_eq!(item["status"], "completed", "{item:#} {out}");
    assert_eq!(item["aggregatedOutput"], "connected\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_outside_the_writable_roots_is_denied_and_inside_is_real() {
    super::harness::require_sandbox();
    let mut h = Harness::new().await;
    let thread = h.thread(json!({})).await;
    let target = h.outside.join("escaped.txt");
    let script = format!("echo escaped > '{}'", target.display());

    let (item, _) = run_command(&mut h, &thread, &script, workspace_write(false, &[])).await;
    assert_eq!(item["status"], "failed", "{item:#}");
    assert!(!target.exists(), "the write escaped the sandbox");
    assert_ne!(item["exitCode"], 0, "{item:#}");
    let text = item["aggregatedOutput"].as_str().unwrap().to_lowercase();
    assert!(text.contains("permission denied"), "{text}");

    // The same write succeeds once the directory is a configured writable root, so the denial
    // above was about the roots and not about the command.
    let roots = [h.outside.display().to_string()];
    let (item, out) = run_command(&mut h, &thread, &script, workspace_write(false, &roots)).await;
    assert_eq!(item["status"], "completed", "{item:#} {out}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "escaped\n");

    // Inside the workspace the command really writes the file.
    let (item, out) = run_command(
        &mut h,
        &thread,
        "mkdir -p sub && printf 'one\\ntwo\\n' > sub/written.txt",
        workspace_write(false, &[]),
    )
    .await;
    assert_eq!(item["status"], "completed", "{item:#} {out}");
    assert_eq!(
        std::fs::read_to_string(h.cwd.join("sub/written.txt")).unwrap(),
        "one\ntwo\n"
    );
}
