//! `config/read`, `config/value/write`, `config/batchWrite`, `configRequirements/read`, and the
//! configuration as threads see it: a write reaches new threads without a restart, a thread's
//! `config` map applies as dotted paths, and requirements bound what a request may ask for.

use super::harness::{input_contains, Env, Server};
use codex_core::config::{parse_overrides, Config, LoadOptions};
use codex_mock_model::assistant_message;
use codex_protocol::methods::{
    ConfigBatchWrite, ConfigRead, ConfigRequirementsRead, ConfigValueWrite, Method, ThreadStart,
    TurnStart,
};
use serde_json::{json, Value};
use std::path::Path;

const USER_CONFIG: &str = "# my settings\nmodel_reasoning_effort = \"high\" # keep\n";

fn write_user_config(env: &Env, text: &str) {
    std::fs::write(env.home.path().join("config.toml"), text).unwrap();
}

fn user_config(env: &Env) -> String {
    std::fs::read_to_string(env.home.path().join("config.toml")).unwrap()
}

#[tokio::test]
async fn config_read_gives_snake_case_keys_origins_and_layers_only_when_asked() {
    let env = Env::new().await;
    write_user_config(&env, USER_CONFIG);
    let mut server = env.server(&[]).await;
    let read = server.call::<ConfigRead>(json!({})).await;
    assert_eq!(read["config"]["model_reasoning_effort"], "high", "{read}");
    assert_eq!(read["config"]["model"], "mock-model");
    let origin = &read["origins"]["model_reasoning_effort"];
    assert_eq!(origin["name"]["type"], "user", "{origin}");
    assert_eq!(
        origin["name"]["file"],
        env.home.path().join("config.toml").display().to_string()
    );
    assert!(origin["version"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(read["origins"]["model"]["name"]["type"], "sessionFlags");
    assert!(read.get("layers").is_none(), "{read}");

    let with_layers = server
        .call::<ConfigRead>(json!({"includeLayers": true}))
        .await;
    let kinds: Vec<&str> = with_layers["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"]["type"].as_str().unwrap())
        .collect();
    // Highest precedence first.
    assert_eq!(kinds.first(), Some(&"sessionFlags"), "{kinds:?}");
    assert!(kinds.contains(&"user"), "{kinds:?}");
}

#[tokio::test]
async fn value_write_keeps_comments_and_answers_ok_version_and_file() {
    let env = Env::new().await;
    write_user_config(&env, USER_CONFIG);
    let mut server = env.server(&[]).await;
    let before = server.call::<ConfigRead>(json!({})).await;
    let version = before["origins"]["model_reasoning_effort"]["version"].clone();
    let written = server
        .call::<ConfigValueWrite>(json!({
            "keyPath": "sandbox_workspace_write.network_access",
            "value": true,
            "mergeStrategy": "upsert",
            "expectedVersion": version,
        }))
        .await;
    assert_eq!(written["status"], "ok", "{written}");
    assert_eq!(
        written["filePath"],
        env.home.path().join("config.toml").display().to_string()
    );
    assert_ne!(written["version"], version);
    let text = user_config(&env);
    assert!(
        text.starts_with(USER_CONFIG),
        "comments and layout kept:\n{text}"
    );
    assert!(
        text.contains("[sandbox_workspace_write]\nnetwork_access = true"),
        "{text}"
    );

    // A key the session flags set is written, and reported as overridden.
    let overridden = server
        .call::<ConfigValueWrite>(json!({
            "keyPath": "model", "value": "other-model", "mergeStrategy": "replace"
        }))
        .await;
    assert_eq!(overridden["status"], "okOverridden", "{overridden}");
    assert_eq!(
        overridden["overriddenMetadata"]["effectiveValue"],
        "mock-model"
    );
}

#[tokio::test]
async fn a_stale_expected_version_is_a_version_conflict_and_nothing_is_written() {
    let env = Env::new().await;
    write_user_config(&env, USER_CONFIG);
    let mut server = env.server(&[]).await;
    let err = server
        .call_err(
            ConfigValueWrite::NAME,
            json!({
                "keyPath": "model_reasoning_effort", "value": "low", "mergeStrategy": "replace",
                "expectedVersion": "sha256:0000",
            }),
        )
        .await;
    assert_eq!(err["code"], -32600, "{err}");
    assert_eq!(
        err["data"]["config_write_error_code"],
        "configVersionConflict"
    );
    assert_eq!(user_config(&env), USER_CONFIG);
}

#[tokio::test]
async fn batch_write_applies_every_edit_or_none() {
    let env = Env::new().await;
    write_user_config(&env, USER_CONFIG);
    let mut server = env.server(&[]).await;
    let written = server
        .call::<ConfigBatchWrite>(json!({"edits": [
            {"keyPath": "model_reasoning_effort", "value": "low", "mergeStrategy": "replace"},
            {"keyPath": "developer_instructions", "value": "be brief", "mergeStrategy": "replace"},
        ]}))
        .await;
    assert_eq!(written["status"], "ok", "{written}");
    let text = user_config(&env);
    assert!(
        text.contains("model_reasoning_effort = \"low\" # keep"),
        "{text}"
    );
    assert!(
        text.contains("developer_instructions = \"be brief\""),
        "{text}"
    );

    // The second edit is invalid: the first is not written either.
    let err = server
        .call_err(
            ConfigBatchWrite::NAME,
            json!({"edits": [
                {"keyPath": "model_reasoning_effort", "value": "minimal", "mergeStrategy": "replace"},
                {"keyPath": "sandbox_mode", "value": "everything-goes", "mergeStrategy": "replace"},
            ]}),
        )
        .await;
    assert_eq!(
        err["data"]["config_write_error_code"], "configValidationError",
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("sandbox_mode"),
        "{err}"
    );
    assert_eq!(user_config(&env), text);
}

#[tokio::test]
async fn a_write_reaches_threads_started_afterwards_without_a_restart() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "one"));
    env.mock.enqueue(assistant_message("r2", "two"));
    let mut server = env.server(&[]).await;
    let before = server.start_thread().await;
    server
        .call::<ConfigValueWrite>(json!({
            "keyPath": "developer_instructions",
            "value": "Answer in haiku.",
            "mergeStrategy": "replace",
        }))
        .await;
    let after = server.start_thread().await;
    server.run_turn(&after, "hi").await;
    server.run_turn(&before, "hi").await;
    let requests = env.wait_model_requests(2).await;
    assert!(
        input_contains(&requests[0], "Answer in haiku."),
        "new thread"
    );
    // A thread keeps the settings it started with.
    assert!(
        !input_contains(&requests[1], "Answer in haiku."),
        "old thread"
    );
}

#[tokio::test]
async fn a_thread_config_map_applies_as_dotted_paths() {
    let env = Env::new().await;
    let mut server = env.server(&[]).await;
    let started = server
        .start_thread_with(json!({
            "sandbox": "workspace-write",
            "config": {"sandbox_workspace_write.network_access": true},
        }))
        .await;
    assert_eq!(started["sandbox"]["type"], "workspaceWrite", "{started}");
    assert_eq!(started["sandbox"]["networkAccess"], true, "{started}");

    let err = server
        .call_err(
            ThreadStart::NAME,
            json!({"config": {"sandbox_workspace_write.network_access": "yes"}}),
        )
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("sandbox_workspace_write.network_access"),
        "{err}"
    );
}

#[tokio::test]
async fn a_trusted_projects_config_applies_to_threads_in_it() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "ok"));
    let project = env.work.path().join("repo");
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::create_dir_all(project.join(".codex")).unwrap();
    std::fs::write(
        project.join(".codex/config.toml"),
        "developer_instructions = \"Project rules apply.\"\n",
    )
    .unwrap();
    write_user_config(
        &env,
        &format!(
            "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
            project.display()
        ),
    );
    let mut server = env.server(&[]).await;
    let thread = server
        .start_thread_with(json!({"cwd": project.display().to_string()}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    server.run_turn(&thread, "hi").await;
    let requests = env.wait_model_requests(1).await;
    assert!(input_contains(&requests[0], "Project rules apply."));
}

/// A server whose requirements file is `requirements` (the system config file left out).
fn server_with_requirements(env: &Env, requirements: &Path) -> Server {
    let options = LoadOptions {
        codex_home: env.home.path().to_path_buf(),
        overrides: parse_overrides(&env.mock_overrides()).unwrap(),
        system_config_file: None,
        requirements_file: Some(requirements.to_path_buf()),
    };
    Server::spawn_with(Config::load_with(options).unwrap(), env.work.path())
}

#[tokio::test]
async fn requirements_are_read_and_bound_what_thread_start_and_turn_start_ask_for() {
    let env = Env::new().await;
    env.mock.enqueue(assistant_message("r1", "ok"));
    let requirements = env.home.path().join("requirements.toml");
    std::fs::write(
        &requirements,
        "allowed_approval_policies = [\"on-request\", \"untrusted\"]\n\
         allowed_sandbox_modes = [\"read-only\", \"workspace-write\"]\n",
    )
    .unwrap();
    let mut server = server_with_requirements(&env, &requirements);
    server.initialize().await;

    let read = server.call::<ConfigRequirementsRead>(json!({})).await;
    assert_eq!(
        read["requirements"]["allowedApprovalPolicies"],
        json!(["on-request", "untrusted"]),
        "{read}"
    );
    assert_eq!(
        read["requirements"]["allowedSandboxModes"],
        json!(["read-only", "workspace-write"])
    );

    let err = server
        .call_err(ThreadStart::NAME, json!({"approvalPolicy": "never"}))
        .await;
    assert_eq!(err["code"], -32602, "{err}");
    let message = err["message"].as_str().unwrap();
    assert!(
        message.starts_with("approvalPolicy: \"never\" is not allowed by"),
        "{err}"
    );
    assert!(
        message.contains(&requirements.display().to_string()),
        "{err}"
    );
    assert!(message.contains("\"on-request\", \"untrusted\""), "{err}");

    let err = server
        .call_err(ThreadStart::NAME, json!({"sandbox": "danger-full-access"}))
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("sandbox: \"danger-full-access\" is not allowed"),
        "{err}"
    );

    // What the requirements allow starts; a turn cannot step outside them either.
    let thread = server
        .start_thread_with(json!({"approvalPolicy": "untrusted", "sandbox": "workspace-write"}))
        .await["thread"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let err = server
        .call_err(
            TurnStart::NAME,
            json!({
                "threadId": thread,
                "input": [{"type": "text", "text": "hi"}],
                "sandboxPolicy": {"type": "dangerFullAccess"},
            }),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("sandboxPolicy: \"danger-full-access\" is not allowed"),
        "{err}"
    );
    server.run_turn(&thread, "hi").await;
}

#[tokio::test]
async fn requirements_read_is_null_without_a_requirements_file() {
    let env = Env::new().await;
    let missing = env.home.path().join("no-requirements.toml");
    let mut server = server_with_requirements(&env, &missing);
    server.initialize().await;
    let read: Value = server.call::<ConfigRequirementsRead>(json!({})).await;
    assert_eq!(read["requirements"], Value::Null, "{read}");
}
