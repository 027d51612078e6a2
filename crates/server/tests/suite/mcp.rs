//! MCP servers through JSON-RPC, against real third-party servers installed by
//! `scripts/install-mcp-test-servers` (`@modelcontextprotocol/server-everything` and
//! `server-filesystem` from npm, `mcp-server-time` from PyPI): background start-up and its
//! notifications, the tools the model sees (filters included), calls whose results reach the
//! model, tool errors and timeouts, servers that fail or never answer, the client API
//! (status list, direct call, resource read, reload), every approval path, elicitations, and
//! servers dying with their thread and with the server.

use super::client_tools::{answer, call_reply, position, server_request, tool_output};
use super::harness::{Env, Server, WAIT};
use codex_mock_model::assistant_message;
use codex_protocol::methods::{
    ItemCompleted, ItemStarted, McpServerStartupStatusUpdated, Notification, ServerRequestResolved,
    ThreadArchive, ThreadStatusChanged,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn installed(relative: &str) -> String {
    let dir = std::env::var_os("CODEX_MCP_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/mcp-servers")
        });
    let path = dir.join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-mcp-test-servers",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn everything_bin() -> String {
    installed("npm/node_modules/.bin/mcp-server-everything")
}

fn filesystem_bin() -> String {
    installed("npm/node_modules/.bin/mcp-server-filesystem")
}

fn time_bin() -> String {
    installed("py/bin/mcp-server-time")
}

/// A `-c` override configuring server `name` (the machine is shared: generous start-up).
fn server_override(name: &str, command: &str, args: &[&str], extra: &str) -> String {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    format!(
        "mcp_servers.{name}={{command={command:?}, args=[{}], startup_timeout_sec=60{extra}}}",
        args.join(", ")
    )
}

/// The next `mcpServer/startupStatus/updated` of `server` on `thread` that is not `starting`.
async fn settled(server: &mut Server, thread: &str, name: &str) -> Value {
    let (thread, name) = (thread.to_string(), name.to_string());
    server
        .wait_for(&format!("{name} settled"), move |m| {
            m["method"] == McpServerStartupStatusUpdated::NAME
                && m["params"]["threadId"] == thread.as_str()
                && m["params"]["name"] == name.as_str()
                && m["params"]["status"] != "starting"
        })
        .await["params"]
        .clone()
}

fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

fn namespace<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "namespace" && t["name"] == name)
}

fn functions_of(namespace: &Value) -> Vec<&str> {
    namespace["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// Text of a model output (string or list of parts), joined.
fn output_text(output: &Value) -> String {
    match output {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => other.to_string(),
    }
}

async fn thread_with(server: &mut Server, params: Value) -> String {
    server.start_thread_with(params).await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Thread params under which no MCP tool asks for approval (policy never, full access).
fn unattended(config: Value) -> Value {
    json!({"approvalPolicy": "never", "sandbox": "danger-full-access", "config": config})
}

/// The completed `mcpToolCall` item of `call_id` (waits for it).
async fn completed_item(server: &mut Server, call_id: &str) -> Value {
    let id = call_id.to_string();
    server
        .wait_for(&format!("item/completed {call_id}"), move |m| {
            m["method"] == ItemCompleted::NAME && m["params"]["item"]["id"] == id.as_str()
        })
        .await["params"]["item"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_start_in_the_background_and_their_tools_reach_the_model() {
    let env = Env::new().await;
    std::fs::write(env.work.path().join("a.txt"), "hello file").unwrap();
    let work = env.work.path().to_string_lossy().into_owned();
    let fs = server_override(
        "fs",
        &filesystem_bin(),
        &[&work],
        r#", enabled_tools=["read_text_file", "write_file", "list_directory"], disabled_tools=["list_directory"]"#,
    );
    env.mock.enqueue(call_reply(
        "r1",
        "echo_1",
        Some("mcp__everything"),
        "echo",
        json!({"message": "hi there"}),
    ));
    env.mock.enqueue(call_reply(
        "r2",
        "read_1",
        None,
        "mcp__fs__read_text_file",
        json!({"path": format!("{work}/a.txt")}),
    ));
    env.mock.enqueue(assistant_message("r3", "Done."));
    let mut server = env.server(&[&fs]).await;
    // A per-thread server, named by dotted keys as the Python SDK documents.
    let thread = thread_with(
        &mut server,
        unattended(json!({
            "mcp_servers.everything.command": everything_bin(),
            "mcp_servers.everything.startup_timeout_sec": 60,
        })),
    )
    .await;
    for name in ["everything", "fs"] {
        let ready = settled(&mut server, &thread, name).await;
        assert_eq!(
            ready,
            json!({"threadId": thread, "name": name, "status": "ready", "error": null, "failureReason": null})
        );
    }
    // `starting` came after the thread was announced.
    let log = server.log.clone();
    let started = position(&log, "thread/started", |m| {
        m["method"] == "thread/started" && m["params"]["thread"]["id"] == thread.as_str()
    });
    let starting = position(&log, "starting", |m| {
        m["method"] == McpServerStartupStatusUpdated::NAME && m["params"]["status"] == "starting"
    });
    assert!(started < starting);

    let done = server.run_turn(&thread, "use the tools").await;
    assert_eq!(done["turn"]["status"], "completed", "{done}");
    let requests = env.model_requests();
    let first = &requests[0];
    let names = tool_names(first);
    for expected in [
        "list_mcp_resources",
        "list_mcp_resource_templates",
        "read_mcp_resource",
        "mcp__everything",
        "mcp__fs",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }
    let fs_ns = namespace(first, "mcp__fs").unwrap();
    assert_eq!(functions_of(fs_ns), ["read_text_file", "write_file"]);
    assert_eq!(fs_ns["description"], "Tools in the mcp__fs namespace.");
    let everything = namespace(first, "mcp__everything").unwrap();
    let echo = everything["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "echo")
        .unwrap();
    assert_eq!(echo["strict"], false);
    assert!(echo["parameters"].get("$schema").is_none(), "{echo}");
    assert!(
        functions_of(everything).contains(&"get_tiny_image"),
        "sanitised names"
    );

    let echo_item = completed_item(&mut server, "echo_1").await;
    assert_eq!(echo_item["server"], "everything");
    assert_eq!(echo_item["tool"], "echo");
    assert_eq!(echo_item["status"], "completed");
    assert_eq!(echo_item["arguments"], json!({"message": "hi there"}));
    let echoed = tool_output(&requests[1], "echo_1");
    assert!(
        echoed[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("Wall time: "),
        "{echoed}"
    );
    assert!(output_text(&echoed).contains("Echo: hi there"), "{echoed}");
    // The flat name other models emit reaches the same server.
    let read_item = completed_item(&mut server, "read_1").await;
    assert_eq!(
        (read_item["server"].as_str(), read_item["tool"].as_str()),
        (Some("fs"), Some("read_text_file"))
    );
    assert!(output_text(&tool_output(&requests[2], "read_1")).contains("hello file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_server_from_pypi_answers_a_call() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "now",
        Some("mcp__time"),
        "get_current_time",
        json!({"timezone": "Etc/UTC"}),
    ));
    env.mock.enqueue(assistant_message("r2", "It is now."));
    let time = server_override("time", &time_bin(), &[], "");
    let mut server = env.server(&[&time]).await;
    let thread = thread_with(&mut server, unattended(json!({}))).await;
    let done = server.run_turn(&thread, "what time is it").await;
    assert_eq!(done["turn"]["status"], "completed");
    let item = completed_item(&mut server, "now").await;
    assert_eq!(item["status"], "completed", "{item}");
    assert_eq!(item["result"]["structuredContent"]["timezone"], "Etc/UTC");
    // With structuredContent the model gets one string: the header, then that JSON.
    let output = tool_output(&env.model_requests()[1], "now");
    let text = output.as_str().unwrap();
    assert!(
        text.starts_with("Wall time: ") && text.contains("\"timezone\":\"Etc/UTC\""),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_errors_and_timeouts_fail_the_call_but_not_the_turn() {
    let env = Env::new().await;
    env.mock.enqueue(call_reply(
        "r1",
        "bad_args",
        Some("mcp__everything"),
        "get_sum",
        json!({"a": "x"}),
    ));
    env.mock.enqueue(call_reply(
        "r2",
        "slow",
        Some("mcp__everything"),
        "trigger_long_running_operation",
        json!({"duration": 30, "steps": 2}),
    ));
    env.mock.enqueue(assistant_message("r3", "Both failed."));
    let everything = server_override("everything", &everything_bin(), &[], ", tool_timeout_sec=1");
    let mut server = env.server(&[&everything]).await;
    let thread = thread_with(&mut server, unattended(json!({}))).await;
    let done = server.run_turn(&thread, "go").await;
    assert_eq!(done["turn"]["status"], "completed");

    let failed = completed_item(&mut server, "bad_args").await;
    assert_eq!(failed["status"], "failed");
    assert!(failed["result"]["content"].is_array(), "{failed}");
    let timed_out = completed_item(&mut server, "slow").await;
    assert_eq!(timed_out["status"], "failed");
    assert_eq!(timed_out["result"], Value::Null);
    let message = timed_out["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("timed out awaiting tools/call after 1s"),
        "{message}"
    );
    let requests = env.model_requests();
    assert!(output_text(&tool_output(&requests[2], "slow")).contains("timed out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_fails_or_never_answers_leaves_the_thread_working() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "Still here."));
    let mut server = env.server(&[]).await;
    let thread = thread_with(
        &mut server,
        json!({"config": {
            "mcp_servers.broken.command": "/nonexistent/mcp-server",
            "mcp_servers.silent.command": "sleep",
            "mcp_servers.silent.args": ["600"],
            "mcp_servers.silent.startup_timeout_sec": 1,
        }}),
    )
    .await;
    let broken = settled(&mut server, &thread, "broken").await;
    assert_eq!(broken["status"], "failed");
    assert_eq!(
        broken["error"],
        "MCP client for `broken` failed to start: MCP startup failed: No such file or directory (os error 2)"
    );
    let silent = settled(&mut server, &thread, "silent").await;
    assert_eq!(silent["status"], "failed");
    assert!(
        silent["error"]
            .as_str()
            .unwrap()
            .starts_with("MCP client for `silent` timed out after 1 seconds"),
        "{silent}"
    );
    let done = server.run_turn(&thread, "hello").await;
    assert_eq!(done["turn"]["status"], "completed");
    let names = tool_names(&env.model_requests()[0]);
    assert!(names.iter().any(|n| n == "list_mcp_resources"), "{names:?}");
    assert!(!names.iter().any(|n| n.starts_with("mcp__")), "{names:?}");

    // The status list of the thread says why.
    let list = server
        .call::<codex_protocol::methods::McpServerStatusList>(json!({"threadId": thread}))
        .await;
    let errors: Vec<(&str, &str)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["toolsError"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        errors[0],
        (
            "broken",
            "MCP startup failed: No such file or directory (os error 2)"
        )
    );
    assert_eq!(errors[1].0, "silent");
    assert!(errors[1].1.contains("timed out"), "{errors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_list_direct_call_and_resource_read_need_no_model() {
    let env = Env::new().await;
    let work = env.work.path().to_string_lossy().into_owned();
    let everything = server_override("everything", &everything_bin(), &[], "");
    let fs = server_override(
        "fs",
        &filesystem_bin(),
        &[&work],
        r#", disabled_tools=["write_file"]"#,
    );
    let broken = "mcp_servers.broken={command=\"/nonexistent/mcp-server\"}".to_string();
    let mut server = env.server(&[&everything, &fs, &broken]).await;

    // No thread needed.
    let list = server
        .call::<codex_protocol::methods::McpServerStatusList>(json!({}))
        .await;
    let data = list["data"].as_array().unwrap();
    let names: Vec<&str> = data.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["broken", "everything", "fs"]);
    assert_eq!(
        data[0]["toolsError"],
        "MCP startup failed: No such file or directory (os error 2)"
    );
    assert_eq!(data[1]["tools"]["echo"]["name"], "echo");
    assert_eq!(data[1]["serverInfo"]["name"], "mcp-servers/everything");
    assert!(!data[1]["resources"].as_array().unwrap().is_empty());
    assert!(data[2]["tools"].get("read_text_file").is_some());
    assert!(data[2]["tools"].get("write_file").is_none(), "filtered");
    assert_eq!(list["nextCursor"], Value::Null);

    let thread = server.start_thread().await;
    let called = server
        .call::<codex_protocol::methods::McpServerToolCall>(json!({
            "threadId": thread, "server": "everything", "tool": "echo", "arguments": {"message": "direct"}
        }))
        .await;
    assert_eq!(called["content"][0]["text"], "Echo: direct");
    let err = server
        .call_err(
            "mcpServer/tool/call",
            json!({"threadId": thread, "server": "nope", "tool": "x"}),
        )
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    assert_eq!(err["message"], "unknown MCP server `nope`");

    let uri = "demo://resource/static/document/architecture.md";
    for params in [
        json!({"threadId": thread, "server": "everything", "uri": uri}),
        json!({"server": "everything", "uri": uri}),
    ] {
        let read = server
            .call::<codex_protocol::methods::McpServerResourceRead>(params)
            .await;
        assert_eq!(read["contents"][0]["uri"], uri);
        assert!(
            read["contents"][0]["text"]
                .as_str()
                .unwrap()
                .contains("Architecture"),
            "{read}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_reads_the_config_again_and_updates_open_threads() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let thread = server.start_thread().await;
    std::fs::write(
        env.home.path().join("config.toml"),
        format!(
            "[mcp_servers.everything]\ncommand = {:?}\nstartup_timeout_sec = 60\n",
            everything_bin()
        ),
    )
    .unwrap();
    let result = server
        .call::<codex_protocol::methods::ConfigMcpServerReload>(json!({}))
        .await;
    assert_eq!(result, json!({}));
    let ready = settled(&mut server, &thread, "everything").await;
    assert_eq!(ready["status"], "ready");
    env.mock.enqueue(assistant_message("r1", "I see it."));
    server.run_turn(&thread, "tools?").await;
    assert!(namespace(&env.model_requests()[0], "mcp__everything").is_some());

    // A bad configuration is refused and changes nothing.
    std::fs::write(
        env.home.path().join("config.toml"),
        "[mcp_servers.x]\nargs = []\n",
    )
    .unwrap();
    let err = server.call_err("config/mcpServer/reload", json!({})).await;
    assert_eq!(err["code"], -32602, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("mcp_servers.x"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_written_with_config_value_write_starts_for_new_threads() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let before = server.start_thread().await;
    let written = server
        .call::<codex_protocol::methods::ConfigValueWrite>(json!({
            "keyPath": "mcp_servers.everything",
            "value": {"command": everything_bin(), "startup_timeout_sec": 60},
            "mergeStrategy": "replace",
        }))
        .await;
    assert_eq!(written["status"], "ok", "{written}");
    // Without a reload and without a restart, a new thread starts the written server.
    let after = server.start_thread().await;
    let ready = settled(&mut server, &after, "everything").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    env.mock.enqueue(assistant_message("r1", "I see it."));
    server.run_turn(&after, "tools?").await;
    assert!(namespace(&env.model_requests()[0], "mcp__everything").is_some());
    // The thread started before the write keeps what it had.
    env.mock.enqueue(assistant_message("r2", "Nothing new."));
    server.run_turn(&before, "tools?").await;
    assert!(namespace(&env.model_requests()[1], "mcp__everything").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destructive_tools_ask_and_the_answer_decides() {
    let env = Env::new().await;
    let work = env.work.path().to_string_lossy().into_owned();
    let fs = server_override("fs", &filesystem_bin(), &[&work], "");
    let path = |name: &str| format!("{work}/{name}");
    env.mock.enqueue(call_reply(
        "r1",
        "w1",
        Some("mcp__fs"),
        "write_file",
        json!({"path": path("yes.txt"), "content": "x"}),
    ));
    env.mock.enqueue(call_reply(
        "r2",
        "w2",
        Some("mcp__fs"),
        "write_file",
        json!({"path": path("no.txt"), "content": "x"}),
    ));
    env.mock.enqueue(assistant_message("r3", "ok"));
    let mut server = env.server(&[&fs]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "write").await;

    let ask = server_request(&mut server, "mcpServer/elicitation/request").await;
    let params = &ask["params"];
    assert_eq!(params["threadId"], thread.as_str());
    assert_eq!(params["turnId"], turn.as_str());
    assert_eq!(params["serverName"], "fs");
    assert_eq!(params["mode"], "form");
    assert_eq!(
        params["message"],
        "Allow the fs MCP server to run tool \"write_file\"?"
    );
    assert_eq!(
        params["requestedSchema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(params["_meta"]["codex_approval_kind"], "mcp_tool_call");
    answer(
        &mut server,
        &ask,
        json!({"action": "accept", "content": null}),
    )
    .await;
    let ask = server_request(&mut server, "mcpServer/elicitation/request").await;
    answer(
        &mut server,
        &ask,
        json!({"action": "decline", "content": null}),
    )
    .await;
    let done = server.turn_completed(&turn).await;
    assert_eq!(done["turn"]["status"], "completed");

    // Official order: item/started, waitingOnApproval, the request, serverRequest/resolved,
    // the flag down, item/completed.
    let log = server.log.clone();
    let first = &log[position(&log, "first request", |m| {
        m["method"] == "mcpServer/elicitation/request"
    })];
    let at = |what: &str, pred: &dyn Fn(&Value) -> bool| position(&log, what, pred);
    let order = [
        at("item/started", &|m| {
            m["method"] == ItemStarted::NAME && m["params"]["item"]["id"] == "w1"
        }),
        at("waiting", &|m| {
            m["method"] == ThreadStatusChanged::NAME
                && m["params"]["status"]["activeFlags"] == json!(["waitingOnApproval"])
        }),
        at("request", &|m| {
            m["id"] == first["id"] && m.get("method").is_some()
        }),
        at("resolved", &|m| {
            m["method"] == ServerRequestResolved::NAME && m["params"]["requestId"] == first["id"]
        }),
        at("item/completed", &|m| {
            m["method"] == ItemCompleted::NAME && m["params"]["item"]["id"] == "w1"
        }),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    assert_eq!(std::fs::read_to_string(path("yes.txt")).unwrap(), "x");
    assert!(!Path::new(&path("no.txt")).exists());
    let declined = completed_item(&mut server, "w2").await;
    assert_eq!(declined["status"], "failed");
    assert_eq!(declined["error"]["message"], "user rejected MCP tool call");
    assert!(output_text(&tool_output(&env.model_requests()[2], "w2"))
        .contains("user rejected MCP tool call"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_refuses_unasked_and_approve_mode_never_asks() {
    let env = Env::new().await;
    let work = env.work.path().to_string_lossy().into_owned();
    let fs = server_override("fs", &filesystem_bin(), &[&work], "");
    let target = format!("{work}/approved.txt");
    env.mock.enqueue(call_reply(
        "r1",
        "refused",
        Some("mcp__fs"),
        "write_file",
        json!({"path": target, "content": "x"}),
    ));
    env.mock.enqueue(assistant_message("r2", "ok"));
    env.mock.enqueue(call_reply(
        "r3",
        "approved",
        Some("mcp__fs"),
        "write_file",
        json!({"path": target, "content": "y"}),
    ));
    env.mock.enqueue(assistant_message("r4", "ok"));
    let mut server = env.server(&[&fs]).await;
    let never = thread_with(&mut server, json!({"approvalPolicy": "never"})).await;
    server.run_turn(&never, "write").await;
    let item = completed_item(&mut server, "refused").await;
    assert_eq!(
        item["error"]["message"],
        "MCP tool call requires approval, but approval policy is never"
    );
    assert!(!Path::new(&target).exists());

    let approve = thread_with(
        &mut server,
        json!({"config": {"mcp_servers.fs.tools.write_file.approval_mode": "approve"}}),
    )
    .await;
    server.run_turn(&approve, "write").await;
    assert_eq!(
        completed_item(&mut server, "approved").await["status"],
        "completed"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "y");
    let asked = server
        .log
        .iter()
        .any(|m| m["method"] == "mcpServer/elicitation/request");
    assert!(!asked, "nobody was asked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_elicitations_reach_the_client_or_are_declined_under_never() {
    let env = Env::new().await;
    let everything = server_override(
        "everything",
        &everything_bin(),
        &[],
        r#", tools={"trigger-elicitation-request"={approval_mode="approve"}}"#,
    );
    env.mock.enqueue(call_reply(
        "r1",
        "e1",
        Some("mcp__everything"),
        "trigger_elicitation_request",
        json!({}),
    ));
    env.mock.enqueue(assistant_message("r2", "ok"));
    let mut server = env.server(&[&everything]).await;
    let thread = server.start_thread().await;
    let turn = server.start_turn(&thread, "ask me").await;
    let ask = server_request(&mut server, "mcpServer/elicitation/request").await;
    assert_eq!(ask["params"]["serverName"], "everything");
    assert_eq!(ask["params"]["turnId"], turn.as_str());
    assert_eq!(ask["params"]["mode"], "form");
    assert_eq!(
        ask["params"]["requestedSchema"]["properties"]["check"]["type"],
        "boolean"
    );
    answer(
        &mut server,
        &ask,
        json!({"action": "accept", "content": {"color": "red"}}),
    )
    .await;
    let resolved = server.notification::<ServerRequestResolved>().await;
    assert_eq!(resolved["requestId"], ask["id"]);
    server.turn_completed(&turn).await;
    let item = completed_item(&mut server, "e1").await;
    assert_eq!(item["status"], "completed");
    assert!(item["result"].to_string().contains("red"), "{item}");

    // Under never, nobody is asked and the server hears a decline.
    env.mock.enqueue(call_reply(
        "r3",
        "e2",
        Some("mcp__everything"),
        "trigger_elicitation_request",
        json!({}),
    ));
    env.mock.enqueue(assistant_message("r4", "ok"));
    let quiet = thread_with(&mut server, unattended(json!({}))).await;
    let before = server
        .log
        .iter()
        .filter(|m| m["method"] == "mcpServer/elicitation/request")
        .count();
    server.run_turn(&quiet, "ask me").await;
    let item = completed_item(&mut server, "e2").await;
    assert!(item["result"].to_string().contains("declined"), "{item}");
    let after = server
        .log
        .iter()
        .filter(|m| m["method"] == "mcpServer/elicitation/request")
        .count();
    assert_eq!(before, after);
}

/// Waits (bounded) until process `pid` has exited, through a pidfd, without polling.
async fn exited(pid: i32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    // SAFETY: fd is a fresh pidfd we own.
    let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    // SAFETY: the pidfd is owned by the AsyncFd for its whole registration.
    let async_fd =
        unsafe { tokio::io::unix::AsyncFd::register(owned) }.expect("register the pidfd");
    tokio::time::timeout(WAIT, async_fd.readable())
        .await
        .is_ok()
}

/// Thread params with one server, `s`, started through `sh`, which first writes the server's
/// pid (the same process, thanks to `exec`) to `pid_file`.
fn pid_thread(pid_file: &Path) -> Value {
    let script = format!(
        "echo $$ > '{}'; exec '{}'",
        pid_file.display(),
        everything_bin()
    );
    json!({"config": {
        "mcp_servers.s.command": "sh",
        "mcp_servers.s.args": ["-c", script],
        "mcp_servers.s.startup_timeout_sec": 60,
    }})
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_die_with_their_thread_and_with_the_server() {
    let env = Env::new().await;
    let dir = tempfile::tempdir().unwrap();
    let (archived_pid, closed_pid) = (dir.path().join("a"), dir.path().join("b"));
    let mut server = env.server(&[]).await;
    let first = thread_with(&mut server, pid_thread(&archived_pid)).await;
    assert_eq!(settled(&mut server, &first, "s").await["status"], "ready");
    let second = thread_with(&mut server, pid_thread(&closed_pid)).await;
    assert_eq!(settled(&mut server, &second, "s").await["status"], "ready");

    server
        .call::<ThreadArchive>(json!({"threadId": first}))
        .await;
    assert!(
        exited(read_pid(&archived_pid)).await,
        "the archived thread's server still runs"
    );
    server.close_and_wait().await;
    assert!(
        exited(read_pid(&closed_pid)).await,
        "MCP servers still run after the shutdown"
    );
}
