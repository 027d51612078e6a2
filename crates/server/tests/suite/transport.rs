//! Transport and handshake: framing, id echo, error codes, line limit, EOF shutdown.

use super::harness::{Env, Server};
use codex_protocol::jsonrpc::error_codes;
use codex_protocol::methods::{
    AccountLogout, Initialize, Method, Notification, ThreadList, ThreadRead, ThreadStart,
    ThreadStarted,
};
use serde_json::{json, Value};

fn init_params() -> Value {
    json!({"clientInfo": {"name": "my_client", "version": "9.9.9"}})
}

/// A cheap request that must still work after each error path.
async fn assert_still_serving(server: &mut Server) {
    let result = server.call::<ThreadList>(json!({"limit": 1})).await;
    assert!(result["data"].is_array(), "{result}");
}

fn spawn(env: &Env, extra: &[&str]) -> Server {
    let mut overrides = env.mock_overrides();
    overrides.extend(extra.iter().map(|s| s.to_string()));
    Server::spawn(env.home.path(), env.work.path(), &overrides)
}

#[tokio::test]
async fn initialize_reports_agent_home_platform_and_version() {
    let env = Env::new().await;
    let mut server = spawn(&env, &[]);
    let result = server.call::<Initialize>(init_params()).await;
    let ua = result["userAgent"].as_str().expect("userAgent");
    assert!(ua.starts_with("my_client/"), "{ua}");
    let home = std::fs::canonicalize(env.home.path()).unwrap();
    let reported = std::fs::canonicalize(result["codexHome"].as_str().unwrap()).unwrap();
    assert_eq!(reported, home);
    assert_eq!(result["platformFamily"], std::env::consts::FAMILY);
    assert_eq!(result["platformOs"], std::env::consts::OS);
    let info = &result["serverInfo"];
    assert!(
        info["name"].as_str().is_some_and(|n| !n.is_empty()),
        "{info}"
    );
    let version: Vec<u64> = info["version"]
        .as_str()
        .expect("serverInfo.version")
        .split(['.', '-'])
        .take(3)
        .map(|p| p.parse().expect("numeric version part"))
        .collect();
    assert!(version >= vec![0, 163, 0], "{version:?}");
    // The user agent's version token is the server version (the SDK parses it from there).
    let ua_version = ua["my_client/".len()..].split_whitespace().next().unwrap();
    assert_eq!(ua_version, info["version"].as_str().unwrap());
}

#[tokio::test]
async fn jsonrpc_member_is_accepted_but_not_required_and_ids_keep_their_type() {
    let env = Env::new().await;
    let mut server = spawn(&env, &[]);
    server
        .send(&json!({"jsonrpc": "2.0", "id": 7, "method": Initialize::NAME, "params": init_params()}))
        .await;
    let reply = server.response(&json!(7)).await;
    assert!(reply["id"].is_i64(), "{reply}");
    assert!(reply["result"]["userAgent"].is_string(), "{reply}");

    // Same number as a string: answered with the string, not the integer.
    server
        .send(&json!({"id": "7", "method": ThreadList::NAME, "params": {}}))
        .await;
    let reply = server.response(&json!("7")).await;
    assert_eq!(reply["id"], json!("7"));
    assert!(reply["result"]["data"].is_array(), "{reply}");

    server
        .send(&json!({"jsonrpc": "2.0", "id": 8, "method": ThreadList::NAME, "params": {}}))
        .await;
    let reply = server.response(&json!(8)).await;
    assert_eq!(reply["id"], json!(8));
    assert!(reply["result"].is_object(), "{reply}");
}

#[tokio::test]
async fn missing_params_means_no_params() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    server
        .send(&json!({"id": "a", "method": ThreadList::NAME}))
        .await;
    let reply = server.response(&json!("a")).await;
    assert!(reply["result"]["data"].is_array(), "{reply}");
    server
        .send(&json!({"id": "b", "method": AccountLogout::NAME}))
        .await;
    let reply = server.response(&json!("b")).await;
    assert_eq!(reply["result"], json!({}), "{reply}");
    // A method with required params reports the missing field, not a crash.
    server
        .send(&json!({"id": "c", "method": ThreadRead::NAME}))
        .await;
    let reply = server.response(&json!("c")).await;
    assert_eq!(
        reply["error"]["code"],
        error_codes::INVALID_PARAMS,
        "{reply}"
    );
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap()
            .contains("threadId"),
        "{reply}"
    );
}

#[tokio::test]
async fn requests_before_initialize_and_a_second_initialize_are_rejected() {
    let env = Env::new().await;
    let mut server = spawn(&env, &[]);
    let err = server.call_err(ThreadList::NAME, json!({})).await;
    assert_eq!(err["code"], error_codes::INVALID_REQUEST, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("Not initialized"),
        "{err}"
    );

    server.call::<Initialize>(init_params()).await;
    let err = server.call_err(Initialize::NAME, init_params()).await;
    assert_eq!(err["code"], error_codes::INVALID_REQUEST, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("Already initialized"),
        "{err}"
    );
    assert_still_serving(&mut server).await;
}

#[tokio::test]
async fn malformed_line_gets_parse_error_with_null_id_and_serving_continues() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    server.send_raw(r#"{"id": "x", "method": "#).await;
    let reply = server
        .wait_for("parse error", |m| m.get("error").is_some())
        .await;
    assert_eq!(reply["error"]["code"], error_codes::PARSE_ERROR, "{reply}");
    assert!(reply.get("id").is_some_and(Value::is_null), "{reply}");
    assert_still_serving(&mut server).await;
}

#[tokio::test]
async fn unknown_method_is_method_not_found_and_serving_continues() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let err = server.call_err("thread/doesNotExist", json!({})).await;
    assert_eq!(err["code"], error_codes::METHOD_NOT_FOUND, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("thread/doesNotExist"),
        "{err}"
    );
    assert_still_serving(&mut server).await;
}

#[tokio::test]
async fn invalid_params_name_the_field_and_serving_continues() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let err = server
        .call_err(
            ThreadRead::NAME,
            json!({"threadId": "abc", "includeTurns": "yes"}),
        )
        .await;
    assert_eq!(err["code"], error_codes::INVALID_PARAMS, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("includeTurns"),
        "{err}"
    );

    let err = server
        .call_err(ThreadList::NAME, json!({"limit": "ten"}))
        .await;
    assert_eq!(err["code"], error_codes::INVALID_PARAMS, "{err}");
    assert!(err["message"].as_str().unwrap().contains("limit"), "{err}");

    let err = server.call_err(ThreadRead::NAME, json!({})).await;
    assert_eq!(err["code"], error_codes::INVALID_PARAMS, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("threadId"),
        "{err}"
    );
    assert_still_serving(&mut server).await;
}

#[tokio::test]
async fn over_long_line_is_rejected_and_serving_continues() {
    let env = Env::new().await;
    let mut server = env.server(&["app_server.max_line_bytes=2048"]).await;
    // A well-formed request that is only too long: it must not be executed.
    let long = json!({"id": "long", "method": ThreadStart::NAME,
        "params": {"developerInstructions": "x".repeat(64 * 1024)}});
    server.send(&long).await;
    // Answered, with the id read from the start of the line, naming the limit: a client
    // waiting on that id does not hang.
    let reply = server.response(&json!("long")).await;
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("2048"),
        "{reply}"
    );
    // A line just under the limit still works.
    let ok = json!({"id": "short", "method": ThreadList::NAME,
        "params": {"searchTerm": "y".repeat(1500)}});
    server.send(&ok).await;
    let reply = server.response(&json!("short")).await;
    assert!(reply["result"]["data"].is_array(), "{reply}");
    assert_still_serving(&mut server).await;
    server.drain_ready();
    assert!(
        !server
            .log
            .iter()
            .any(|m| m["id"] == "long" && m.get("result").is_some()),
        "the over-long request was executed"
    );
}

#[tokio::test]
async fn too_deeply_nested_request_is_answered_with_its_id_and_serving_continues() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let deep = format!(
        r#"{{"id":"deep","method":"{}","params":{{"cwd":{}{}}}}}"#,
        ThreadList::NAME,
        "[".repeat(200),
        "]".repeat(200)
    );
    server.send_raw(&deep).await;
    let reply = server.response(&json!("deep")).await;
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert!(
        reply["error"]["message"].as_str().unwrap().contains("128"),
        "{reply}"
    );
    assert_still_serving(&mut server).await;
}

#[tokio::test]
async fn stdin_eof_flushes_every_pending_reply_and_exits_zero() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    const N: usize = 40;
    for i in 0..N {
        server
            .send(&json!({"id": i, "method": ThreadStart::NAME, "params": {}}))
            .await;
    }
    let status = server.close_and_wait().await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", server.stderr());
    for i in 0..N {
        let reply = server
            .backlog()
            .iter()
            .find(|m| m["id"] == json!(i))
            .unwrap_or_else(|| panic!("reply {i} was lost at exit"));
        assert!(reply["result"]["thread"]["id"].is_string(), "{reply}");
    }
    let started = server
        .backlog()
        .iter()
        .filter(|m| m["method"] == ThreadStarted::NAME)
        .count();
    assert_eq!(started, N);
}
