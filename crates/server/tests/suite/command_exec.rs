//! The `command/exec` family through the JSON-RPC surface: buffered and streamed output, a
//! terminal with input, size and resize, stdin and its closing, timeout, terminate, output
//! caps, the sandbox (requested or configured), and every refusal with its code and message.

use super::harness::{Env, Server};
use super::procs::{require_sandbox, unique_sleep, wait_for_count};
use base64::Engine;
use codex_protocol::methods::{
    CommandExec, CommandExecOutputDelta, CommandExecResize, CommandExecTerminate, CommandExecWrite,
    Method, Notification,
};
use serde_json::{json, Value};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn unb64(text: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_str().unwrap())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn unsandboxed() -> Value {
    json!({"type": "dangerFullAccess"})
}

/// The `command/exec/outputDelta` params seen so far for `process_id`, in order.
fn deltas(server: &Server, process_id: &str) -> Vec<Value> {
    server
        .log
        .iter()
        .filter(|m| m["method"] == CommandExecOutputDelta::NAME)
        .map(|m| m["params"].clone())
        .filter(|p| p["processId"] == process_id)
        .collect()
}

/// Waits until the streamed stdout of `process_id` contains `needle`.
async fn wait_output(server: &mut Server, process_id: &str, needle: &str) {
    loop {
        let seen: String = deltas(server, process_id)
            .iter()
            .map(|d| unb64(&d["deltaBase64"]))
            .collect();
        if seen.contains(needle) {
            return;
        }
        let id = process_id.to_string();
        server
            .wait_for(&format!("output {needle:?} of {process_id}"), move |m| {
                m["method"] == CommandExecOutputDelta::NAME && m["params"]["processId"] == id
            })
            .await;
    }
}

#[tokio::test]
async fn buffered_commands_answer_exit_code_and_both_streams() {
    let env = Env::new().await;
    std::fs::create_dir(env.work.path().join("sub")).unwrap();
    let mut server = env.server(&[]).await;
    let r = server
        .call::<CommandExec>(json!({
            "command": ["sh", "-c", "echo out; echo err >&2; exit 2"],
            "sandboxPolicy": unsandboxed()}))
        .await;
    assert_eq!(
        r,
        json!({"exitCode": 2, "stdout": "out\n", "stderr": "err\n"})
    );
    // The server's directory by default, a relative cwd under it; env overrides and unsets.
    let r = server
        .call::<CommandExec>(json!({
            "command": ["sh", "-c", "pwd; echo $FOO; echo ${CODEX_TEST_GONE:-unset}"],
            "cwd": "sub", "env": {"FOO": "bar", "CODEX_TEST_GONE": null},
            "sandboxPolicy": unsandboxed()}))
        .await;
    let sub = env.work.path().join("sub");
    assert_eq!(r["stdout"], format!("{}\nbar\nunset\n", sub.display()));
    let r = server
        .call::<CommandExec>(json!({"command": ["pwd"], "sandboxPolicy": unsandboxed()}))
        .await;
    assert_eq!(r["stdout"], format!("{}\n", env.work.path().display()));
}

#[tokio::test]
async fn streamed_output_arrives_before_the_answer_which_is_then_empty() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let id = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", "echo one; echo two >&2; echo three"],
                   "processId": "s1", "streamStdoutStderr": true,
                   "sandboxPolicy": unsandboxed()}),
        )
        .await;
    let answer = server.response(&id).await;
    assert_eq!(
        answer["result"],
        json!({"exitCode": 0, "stdout": "", "stderr": ""})
    );
    // Everything streamed came before the answer (the log is in arrival order).
    let answered_at = server.log.iter().position(|m| m == &answer).unwrap();
    let streamed = deltas(&server, "s1");
    assert!(server.log[answered_at..]
        .iter()
        .all(|m| m["method"] != CommandExecOutputDelta::NAME));
    let of = |stream: &str| -> String {
        streamed
            .iter()
            .filter(|d| d["stream"] == stream)
            .map(|d| {
                assert_eq!(d["capReached"], false);
                unb64(&d["deltaBase64"])
            })
            .collect()
    };
    assert_eq!(of("stdout"), "one\nthree\n");
    assert_eq!(of("stderr"), "two\n");
}

#[tokio::test]
async fn a_terminal_takes_input_and_resizes_before_answering() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", "stty size; read x; stty size; echo got $x >&2"],
                   "processId": "t1", "tty": true, "size": {"rows": 30, "cols": 100},
                   "sandboxPolicy": unsandboxed()}),
        )
        .await;
    wait_output(&mut server, "t1", "30 100\r\n").await;
    server
        .call::<CommandExecResize>(json!({"processId": "t1", "size": {"rows": 40, "cols": 120}}))
        .await;
    server
        .call::<CommandExecWrite>(json!({"processId": "t1", "deltaBase64": b64("abc\n")}))
        .await;
    let answer = server.response(&exec).await;
    assert_eq!(
        answer["result"],
        json!({"exitCode": 0, "stdout": "", "stderr": ""})
    );
    // One stream (stderr included), input echoed, lines ending in \r\n, the new size seen.
    let streamed = deltas(&server, "t1");
    assert!(streamed.iter().all(|d| d["stream"] == "stdout"));
    let text: String = streamed.iter().map(|d| unb64(&d["deltaBase64"])).collect();
    assert_eq!(text, "30 100\r\nabc\r\n40 120\r\ngot abc\r\n");
}

#[tokio::test]
async fn stdin_is_written_then_closed() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", "cat; echo done"], "processId": "c1",
                   "streamStdin": true, "sandboxPolicy": unsandboxed()}),
        )
        .await;
    server
        .call::<CommandExecWrite>(json!({"processId": "c1", "deltaBase64": b64("hello\n")}))
        .await;
    server
        .call::<CommandExecWrite>(json!({"processId": "c1", "deltaBase64": b64("bye\n"),
                                         "closeStdin": true}))
        .await;
    let answer = server.response(&exec).await;
    assert_eq!(
        answer["result"],
        json!({"exitCode": 0, "stdout": "hello\nbye\ndone\n", "stderr": ""})
    );
}

#[tokio::test]
async fn timeout_gives_124_and_terminate_gives_137() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let sleep = unique_sleep();
    let r = server
        .call::<CommandExec>(json!({"command": ["sh", "-c", sleep], "timeoutMs": 200,
                                    "sandboxPolicy": unsandboxed()}))
        .await;
    assert_eq!(r["exitCode"], 124);
    wait_for_count(&sleep, 0).await;

    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", format!("echo up; {sleep}")], "processId": "k",
                   "streamStdoutStderr": true, "disableTimeout": true,
                   "sandboxPolicy": unsandboxed()}),
        )
        .await;
    wait_output(&mut server, "k", "up\n").await;
    server
        .call::<CommandExecTerminate>(json!({"processId": "k"}))
        .await;
    let answer = server.response(&exec).await;
    assert_eq!(answer["result"]["exitCode"], 137, "{answer}");
    wait_for_count(&sleep, 0).await;
    // Once it has ended, the id names nothing.
    let err = server
        .call_err(CommandExecTerminate::NAME, json!({"processId": "k"}))
        .await;
    assert_eq!(err["code"], -32600);
}

#[tokio::test]
async fn output_caps_cut_each_stream_and_say_so() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let script = "echo 0123456789; echo abcdefghij >&2";
    let r = server
        .call::<CommandExec>(json!({"command": ["sh", "-c", script], "outputBytesCap": 4,
                                    "sandboxPolicy": unsandboxed()}))
        .await;
    assert_eq!(
        r,
        json!({"exitCode": 0, "stdout": "0123", "stderr": "abcd"})
    );
    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", script], "outputBytesCap": 4, "processId": "cap",
                   "streamStdoutStderr": true, "sandboxPolicy": unsandboxed()}),
        )
        .await;
    server.response(&exec).await;
    for (stream, expected) in [("stdout", "0123"), ("stderr", "abcd")] {
        let of: Vec<Value> = deltas(&server, "cap")
            .into_iter()
            .filter(|d| d["stream"] == stream)
            .collect();
        let text: String = of.iter().map(|d| unb64(&d["deltaBase64"])).collect();
        assert_eq!(text, expected);
        assert_eq!(of.last().unwrap()["capReached"], true, "{of:?}");
    }
    let r = server
        .call::<CommandExec>(
            json!({"command": ["sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' x"],
                                    "disableOutputCap": true, "sandboxPolicy": unsandboxed()}),
        )
        .await;
    assert_eq!(r["stdout"].as_str().unwrap().len(), 2_000_000);
}

/// `(method, params, code, message fragment)` for every refusal.
fn refusals() -> Vec<(&'static str, Value, i64, &'static str)> {
    let exec = CommandExec::NAME;
    vec![
        (
            exec,
            json!({"command": []}),
            -32600,
            "command must not be empty",
        ),
        (
            exec,
            json!({"command": ["true"], "tty": true}),
            -32600,
            "requires a client-supplied processId",
        ),
        (
            exec,
            json!({"command": ["true"], "streamStdin": true}),
            -32600,
            "requires a client-supplied processId",
        ),
        (
            exec,
            json!({"command": ["true"], "streamStdoutStderr": true}),
            -32600,
            "requires a client-supplied processId",
        ),
        (
            exec,
            json!({"command": ["true"], "size": {"rows": 5, "cols": 5}}),
            -32602,
            "size requires tty: true",
        ),
        (
            exec,
            json!({"command": ["true"], "tty": true, "processId": "z", "size": {"rows": 0, "cols": 5}}),
            -32602,
            "rows and cols must be greater than 0",
        ),
        (
            exec,
            json!({"command": ["true"], "timeoutMs": 5, "disableTimeout": true}),
            -32602,
            "cannot set both timeoutMs and disableTimeout",
        ),
        (
            exec,
            json!({"command": ["true"], "timeoutMs": -5}),
            -32602,
            "timeoutMs must be non-negative, got -5",
        ),
        (
            exec,
            json!({"command": ["true"], "outputBytesCap": 5, "disableOutputCap": true}),
            -32602,
            "cannot set both outputBytesCap and disableOutputCap",
        ),
        (
            exec,
            json!({"command": ["/nonexistent/program"], "sandboxPolicy": unsandboxed()}),
            -32603,
            "failed to spawn command",
        ),
        (
            CommandExecWrite::NAME,
            json!({"processId": "nope", "deltaBase64": b64("x")}),
            -32600,
            "no active command/exec for process id \"nope\"",
        ),
        (
            CommandExecResize::NAME,
            json!({"processId": "nope", "size": {"rows": 5, "cols": 5}}),
            -32600,
            "no active command/exec for process id \"nope\"",
        ),
        (
            CommandExecTerminate::NAME,
            json!({"processId": "nope"}),
            -32600,
            "no active command/exec for process id \"nope\"",
        ),
    ]
}

#[tokio::test]
async fn every_refusal_names_the_problem() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    for (method, params, code, message) in refusals() {
        let err = server.call_err(method, params.clone()).await;
        assert_eq!(err["code"], code, "{method} {params}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(message),
            "{method} {params}: {err}"
        );
    }
    // Refusals that need a live command: one without a terminal and without stdin.
    let sleep = unique_sleep();
    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", format!("echo up; {sleep}")], "processId": "live",
                   "streamStdoutStderr": true, "sandboxPolicy": unsandboxed()}),
        )
        .await;
    wait_output(&mut server, "live", "up\n").await;
    let live = [
        (
            CommandExec::NAME,
            json!({"command": ["true"], "processId": "live"}),
            -32600,
            "duplicate active command/exec process id: \"live\"",
        ),
        (
            CommandExecWrite::NAME,
            json!({"processId": "live", "deltaBase64": b64("x")}),
            -32600,
            "stdin streaming is not enabled",
        ),
        (
            CommandExecWrite::NAME,
            json!({"processId": "live", "deltaBase64": "not base64!"}),
            -32602,
            "deltaBase64",
        ),
        (
            CommandExecResize::NAME,
            json!({"processId": "live", "size": {"rows": 5, "cols": 5}}),
            -32600,
            "was not started with tty: true",
        ),
    ];
    for (method, params, code, message) in live {
        let err = server.call_err(method, params.clone()).await;
        assert_eq!(err["code"], code, "{method} {params}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(message),
            "{method} {params}: {err}"
        );
    }
    server
        .call::<CommandExecTerminate>(json!({"processId": "live"}))
        .await;
    server.response(&exec).await;
}

#[tokio::test]
async fn the_sandbox_is_the_requested_one_or_else_the_configured_one() {
    require_sandbox();
    let env = Env::new().await;
    let work = env.work.path().to_path_buf();
    let touch = |name: &str| json!(["sh", "-c", format!("touch {name} && echo wrote")]);
    let mut server = env.server(&[]).await;
    // Read-only denies the write; workspace-write allows it in the working directory.
    let r = server
        .call::<CommandExec>(json!({"command": touch("ro.txt"),
                                    "sandboxPolicy": {"type": "readOnly"}}))
        .await;
    assert_ne!(r["exitCode"], 0, "{r}");
    assert!(!work.join("ro.txt").exists());
    let r = server
        .call::<CommandExec>(json!({"command": touch("ww.txt"),
                                    "sandboxPolicy": {"type": "workspaceWrite"}}))
        .await;
    assert_eq!(r["stdout"], "wrote\n", "{r}");
    // Without a policy, the configured sandbox (read-only by default) applies.
    let r = server
        .call::<CommandExec>(json!({"command": touch("default.txt")}))
        .await;
    assert_ne!(r["exitCode"], 0, "{r}");
    assert!(!work.join("default.txt").exists());
    // A terminal runs inside the sandbox too.
    let exec = server
        .request(
            CommandExec::NAME,
            json!({"command": ["sh", "-c", "tty >/dev/null && echo on-a-tty; touch tty.txt"],
                   "processId": "t", "tty": true, "sandboxPolicy": {"type": "readOnly"}}),
        )
        .await;
    let answer = server.response(&exec).await;
    assert_ne!(answer["result"]["exitCode"], 0, "{answer}");
    let text: String = deltas(&server, "t")
        .iter()
        .map(|d| unb64(&d["deltaBase64"]))
        .collect();
    assert!(text.starts_with("on-a-tty\r\n"), "{text}");
    assert!(!work.join("tty.txt").exists());
    server.close_and_wait().await;

    let mut server = env.server(&[r#"sandbox_mode="workspace-write""#]).await;
    let r = server
        .call::<CommandExec>(json!({"command": touch("configured.txt")}))
        .await;
    assert_eq!(r["stdout"], "wrote\n", "{r}");
    assert!(work.join("configured.txt").exists());
}
