//! `codex exec` end to end: the built binary, a real runtime, the scripted mock model.

use super::harness::{input_contains, json_lines, run, types, Env, WAIT};
use codex_mock_model::{assistant_message, custom_tool_call, ev_created, function_call, Reply};
use serde_json::{json, Value};
use std::time::Duration;

fn rollout_files(env: &Env) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![env.home.path().join("sessions")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                out.push(path);
            }
        }
    }
    out
}

#[tokio::test]
async fn the_prompt_comes_from_stdin_and_only_the_answer_goes_to_stdout() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "hello from exec"));
    let out = env.exec(&[], "Say hello\n").await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello from exec\n");
    let requests = env.model_requests();
    assert_eq!(requests.len(), 1);
    assert!(input_contains(&requests[0], "Say hello"));
    let files = rollout_files(&env);
    assert_eq!(files.len(), 1, "one thread persisted: {files:?}");
    assert!(std::fs::read_to_string(&files[0])
        .unwrap()
        .contains("hello from exec"));
}

#[tokio::test]
async fn a_positional_prompt_still_works_and_piped_stdin_joins_it() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "ok"));
    let out = env.exec(&["Summarise the log"], "line one\n").await;
    assert!(out.status.success(), "{out:?}");
    let body = &env.model_requests()[0];
    assert!(input_contains(
        body,
        "Summarise the log\\n\\n<stdin>\\nline one\\n</stdin>"
    ));
}

#[tokio::test]
async fn json_mode_streams_exec_events_for_commands_and_patches() {
    let env = Env::new().await;
    env.mock.enqueue(function_call(
        "r1",
        "call_cmd",
        "exec_command",
        &json!({"cmd": "echo out; echo err >&2; exit 3"}),
    ));
    env.mock.enqueue(custom_tool_call(
        "r2",
        "call_patch",
        "apply_patch",
        "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n",
    ));
    // A patch sent through the shell is intercepted: one file change, not a command.
    env.mock.enqueue(function_call(
        "r3",
        "call_heredoc",
        "exec_command",
        &json!({"cmd": "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: second.txt\n+two\n*** End Patch\nEOF\n"}),
    ));
    env.mock.enqueue(assistant_message("r4", "All done."));
    let out = env
        .exec(
            &["--experimental-json", "--sandbox", "danger-full-access"],
            "work",
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(
        types(&lines),
        [
            "thread.started",
            "turn.started",
            "item.started",
            "item.completed",
            "item.started",
            "item.completed",
            "item.started",
            "item.completed",
            "item.completed",
            "turn.completed"
        ],
        "{lines:#?}"
    );
    assert!(lines[0]["thread_id"]
        .as_str()
        .is_some_and(|t| !t.is_empty()));
    assert_eq!(
        lines[2]["item"],
        json!({"id": "item_0", "type": "command_execution",
            "command": "/bin/bash -lc 'echo out; echo err >&2; exit 3'",
            "aggregated_output": "", "exit_code": null, "status": "in_progress"})
    );
    let command = &lines[3]["item"];
    assert_eq!(command["id"], "item_0");
    assert_eq!(command["exit_code"], 3);
    assert_eq!(command["status"], "failed");
    let output = command["aggregated_output"].as_str().unwrap();
    assert!(
        output.contains("out\n") && output.contains("err\n"),
        "{output:?}"
    );
    let work = env.work.path().canonicalize().unwrap();
    for (line, file) in [(&lines[5], "hello.txt"), (&lines[7], "second.txt")] {
        assert_eq!(line["item"]["type"], "file_change");
        assert_eq!(line["item"]["status"], "completed");
        assert_eq!(
            line["item"]["changes"],
            json!([{"path": work.join(file).to_string_lossy(), "kind": "add"}])
        );
    }
    assert_eq!(lines[5]["item"]["id"], "item_1");
    assert_eq!(lines[7]["item"]["id"], "item_2");
    assert_eq!(
        lines[8]["item"],
        json!({"id": "item_3", "type": "agent_message", "text": "All done."})
    );
    // Four model responses of the mock's default usage (120 in, 20 cached, 7 out).
    assert_eq!(
        lines[9]["usage"],
        json!({"input_tokens": 480, "cached_input_tokens": 80, "cache_write_input_tokens": 0,
            "output_tokens": 28, "reasoning_output_tokens": 0})
    );
    assert_eq!(
        std::fs::read_to_string(work.join("second.txt")).unwrap(),
        "two\n"
    );
}

#[tokio::test]
async fn an_http_error_fails_the_turn_with_the_response_body_and_exit_1() {
    let env = Env::new().await;
    let body = r#"{"error":{"message":"bad request body here","type":"invalid_request_error"}}"#;
    env.mock.enqueue(Reply::status(400, body));
    let out = env.exec(&["--json"], "hi").await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(
        types(&lines),
        ["thread.started", "turn.started", "error", "turn.failed"]
    );
    assert_eq!(lines[2], json!({"type": "error", "message": body}));
    assert_eq!(
        lines[3],
        json!({"type": "turn.failed", "error": {"message": body}})
    );

    // Human mode says it on stderr.
    env.mock.enqueue(Reply::status(400, body));
    let out = env.exec(&[], "hi").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("error: {body}")));
}

#[tokio::test]
async fn refusals_before_any_model_request() {
    let env = Env::new().await;
    let out = env.exec(&["--json"], "  \n").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No prompt provided via stdin."));

    let outside = tempfile::tempdir().unwrap();
    let mut cmd = env.command();
    cmd.current_dir(outside.path()).arg("exec");
    for o in env.mock_overrides() {
        cmd.arg("-c").arg(o);
    }
    let out = run(cmd, "hi").await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--skip-git-repo-check was not specified") && err.contains("Git repository"),
        "{err}"
    );

    let out = env.exec(&["--image", "/no/such.png"], "hi").await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such.png"));
    assert!(env.model_requests().is_empty());

    // With the flag, the same directory is fine.
    env.mock.enqueue(assistant_message("r1", "fine"));
    let mut cmd = env.command();
    cmd.current_dir(outside.path())
        .args(["exec", "--skip-git-repo-check"]);
    for o in env.mock_overrides() {
        cmd.arg("-c").arg(o);
    }
    let out = run(cmd, "hi").await;
    assert!(out.status.success(), "{out:?}");
}

#[tokio::test]
async fn openai_base_url_beats_the_environment_and_codex_api_key_is_sent() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "via config"));
    let mut cmd = env.command();
    cmd.env("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
        .env("CODEX_API_KEY", "sk-from-codex-api-key")
        .args(["exec", "-c", "model_providers.openai.request_max_retries=0"])
        .arg("--config")
        .arg(format!("openai_base_url=\"{}\"", env.mock.url()));
    let out = run(cmd, "hi").await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "via config\n");
    let request = &env.mock.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Bearer sk-from-codex-api-key")
    );
}

#[tokio::test]
async fn resume_continues_the_same_thread_with_its_history() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "first answer"));
    let out = env.exec(&["--json"], "first question").await;
    assert!(out.status.success(), "{out:?}");
    let thread_id = json_lines(&out)[0]["thread_id"]
        .as_str()
        .unwrap()
        .to_string();

    env.mock.enqueue(assistant_message("r2", "second answer"));
    let out = env
        .exec(&["--json", "resume", &thread_id], "second question")
        .await;
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(
        lines[0],
        json!({"type": "thread.started", "thread_id": thread_id})
    );
    let second = &env.model_requests()[1];
    assert!(input_contains(second, "first question"));
    assert!(input_contains(second, "first answer"));
    assert!(input_contains(second, "second question"));

    env.mock.enqueue(assistant_message("r3", "third answer"));
    let out = env.exec(&["--json", "resume", "--last"], "third").await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(json_lines(&out)[0]["thread_id"], json!(thread_id));
}

#[tokio::test]
async fn output_schema_and_images_reach_the_model() {
    let env = Env::new().await;
    let schema = json!({"type": "object", "properties": {"a": {"type": "string"}},
        "required": ["a"], "additionalProperties": false});
    let schema_path = env.work.path().join("schema.json");
    std::fs::write(&schema_path, schema.to_string()).unwrap();
    let image = env.work.path().join("pic.png");
    std::fs::write(&image, b"PNGDATA").unwrap();
    env.mock.enqueue(assistant_message("r1", r#"{"a":"x"}"#));
    let out = env
        .exec(
            &[
                "--json",
                "--output-schema",
                schema_path.to_str().unwrap(),
                "--image",
                image.to_str().unwrap(),
            ],
            "describe",
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    let body = &env.model_requests()[0];
    assert_eq!(body["text"]["format"]["schema"], schema);
    assert!(input_contains(body, "data:image/png;base64,UE5HREFUQQ=="));
}

#[tokio::test]
async fn add_dir_makes_a_directory_writable_under_workspace_write() {
    let env = Env::new().await;
    let extra = tempfile::tempdir().unwrap();
    let target = extra.path().join("made.txt");
    let touch = |id: &str| {
        function_call(
            id,
            "call_touch",
            "exec_command",
            &json!({"cmd": format!("echo made > {}", target.display())}),
        )
    };
    let exit_code = |out: &std::process::Output| {
        let lines = json_lines(out);
        lines
            .iter()
            .find(|l| l["type"] == "item.completed" && l["item"]["type"] == "command_execution")
            .map(|l| l["item"]["exit_code"].clone())
    };

    // Temp directories are writable under workspace-write by default; take that away so the
    // extra directory (itself a temp dir) is writable only through --add-dir.
    let no_tmp = [
        "--sandbox",
        "workspace-write",
        "-c",
        "sandbox_workspace_write.exclude_slash_tmp=true",
        "-c",
        "sandbox_workspace_write.exclude_tmpdir_env_var=true",
    ];
    env.mock.enqueue(touch("r1"));
    env.mock.enqueue(assistant_message("r2", "tried"));
    let out = env
        .exec(&[&["--json"][..], &no_tmp].concat(), "write it")
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_ne!(exit_code(&out), Some(json!(0)), "the sandbox must refuse");
    assert!(!target.exists());

    env.mock.enqueue(touch("r3"));
    env.mock.enqueue(assistant_message("r4", "wrote"));
    let out = env
        .exec(
            &[
                &["--json", "--add-dir", extra.path().to_str().unwrap()][..],
                &no_tmp,
            ]
            .concat(),
            "write it",
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(exit_code(&out), Some(json!(0)));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "made\n");
}

#[tokio::test]
async fn sigterm_ends_the_turn_and_the_process_promptly() {
    let env = Env::new().await;
    env.mock.enqueue(Reply::Gated {
        before: vec![ev_created("r1")],
        gate: env.mock.gate(),
        after: Vec::new(),
    });
    let mut cmd = env.command();
    cmd.arg("exec");
    for o in env.mock_overrides() {
        cmd.arg("-c").arg(o);
    }
    cmd.arg("--json").stdin(std::process::Stdio::null());
    cmd.arg("wait forever");
    let child = cmd.spawn().unwrap();
    env.mock.wait_for_requests(1, WAIT).await.unwrap();
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .expect("exec left promptly after SIGTERM")
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 15), "{out:?}");
    let lines = json_lines(&out);
    let last: &Value = lines.last().unwrap();
    assert_eq!(last["type"], "turn.failed", "{lines:#?}");
    // The model stream was abandoned, not left running.
    env.mock
        .wait_for_aborted_streams(1, WAIT)
        .await
        .expect("the model request was cancelled");
}

#[tokio::test]
async fn output_last_message_and_ephemeral() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "kept in a file"));
    let answer = env.work.path().join("answer.txt");
    let out = env
        .exec(
            &[
                "--ephemeral",
                "-o",
                answer.to_str().unwrap(),
                "--color",
                "never",
            ],
            "hi",
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&answer).unwrap(), "kept in a file");
    assert!(
        rollout_files(&env).is_empty(),
        "an ephemeral thread is not persisted"
    );
}

#[tokio::test]
async fn a_thread_that_cannot_start_is_an_error_event_and_exit_1() {
    let env = Env::new().await;
    let out = env
        .exec(&["--json", "-c", r#"model_provider="nowhere""#], "hi")
        .await;
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines = json_lines(&out);
    assert_eq!(types(&lines), ["error"]);
    assert!(
        lines[0]["message"].as_str().unwrap().contains("nowhere"),
        "{lines:?}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("nowhere"));
    assert!(env.model_requests().is_empty());
}

#[tokio::test]
async fn approval_requests_are_declined_since_nobody_can_answer() {
    let env = Env::new().await;
    let target = env.work.path().join("made.txt");
    env.mock.enqueue(function_call(
        "r1",
        "call_touch",
        "exec_command",
        &json!({"cmd": format!("touch {}", target.display())}),
    ));
    env.mock.enqueue(assistant_message("r2", "declined, fine"));
    let out = env
        .exec(
            &[
                "--json",
                "--sandbox",
                "read-only",
                "-c",
                r#"approval_policy="untrusted""#,
            ],
            "touch it",
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    let lines = json_lines(&out);
    let command = lines
        .iter()
        .find(|l| l["type"] == "item.completed" && l["item"]["type"] == "command_execution")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(command["item"]["status"], "failed");
    assert!(!target.exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("declined"), "{stderr}");
}
