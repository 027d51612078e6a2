//! Dispatch: parallel calls keep their order, unknown tools, bad arguments, view_image.

use super::harness::{calls, Harness};
use codex_mock_model::assistant_message;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_calls_run_together_and_outputs_keep_call_order() {
    let mut h = Harness::new().await;
    let thread = h
        .thread(json!({"approvalPolicy": "never", "sandbox": "danger-full-access"}))
        .await;
    // c1 only prints `saw-flag` if c2 runs while c1 waits (it gives up after ~10 s).
    let waiter = "for i in $(seq 200); do [ -f flag ] && break; sleep 0.05; done; [ -f flag ] && echo saw-flag";
    h.mock.enqueue(calls(
        "r1",
        &[
            (
                "c1",
                "exec_command",
                json!({"cmd": waiter, "login": false, "yield_time_ms": 30000}),
            ),
            (
                "c2",
                "exec_command",
                json!({"cmd": "touch flag; echo made", "login": false}),
            ),
            ("c3", "no_such_tool", json!({})),
            ("c4", "view_image", json!({"path": "missing.png"})),
            ("c5", "exec_command", json!("{not json")),
        ],
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn(&thread, "go").await;
    assert_eq!(h.turn_completed().await["status"], "completed");
    let reqs = h.model_requests();
    let ids: Vec<String> = reqs[1]["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["call_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["c1", "c2", "c3", "c4", "c5"]);
    let c1 = h.output_text("c1");
    assert!(c1.ends_with("Output:\nsaw-flag\n"), "{c1}");
    assert!(h.output_text("c2").ends_with("Output:\nmade\n"));
    assert_eq!(h.output_text("c3"), "unsupported call: no_such_tool");
    assert!(h
        .output_text("c4")
        .starts_with("unable to locate image at `"));
    assert!(h
        .output_text("c5")
        .starts_with("failed to parse function arguments: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_image_sends_a_data_url_and_an_image_view_item() {
    let mut h = Harness::new().await;
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    png.extend_from_slice(b"rest-of-image");
    std::fs::write(h.cwd.join("pic.png"), &png).unwrap();
    std::fs::write(h.cwd.join("notes.txt"), "text").unwrap();
    let thread = h.thread(json!({"approvalPolicy": "never"})).await;
    h.mock.enqueue(calls(
        "r1",
        &[
            ("v1", "view_image", json!({"path": "pic.png"})),
            ("v2", "view_image", json!({"path": "notes.txt"})),
        ],
    ));
    h.mock.enqueue(assistant_message("r2", "ok"));
    h.turn(&thread, "look").await;
    h.turn_completed().await;
    let out = h.output_for("v1");
    assert_eq!(out["type"], "function_call_output");
    let url = out["output"][0]["image_url"].as_str().unwrap();
    assert_eq!(out["output"][0]["type"], "input_image");
    assert!(url.starts_with("data:image/png;base64,iVBORw0KGg"), "{url}");
    let items = h.items("item/completed", "imageView");
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0]["path"],
        h.cwd.join("pic.png").display().to_string()
    );
    assert!(h.output_text("v2").contains("is not a supported image"));
}
