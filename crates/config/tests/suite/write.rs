//! `config/value/write` and `config/batchWrite`: edits that keep the file's formatting,
//! versions, every refusal, and the live handle.

use super::support::Home;
use codex_config::ConfigHandle;
use codex_protocol::v2::{
    ConfigBatchWriteParams, ConfigReadParams, ConfigValueWriteParams, ConfigWriteErrorCode,
    ConfigWriteResponse, WriteStatus,
};
use serde_json::{json, Value};

const FILE: &str = r#"# my comment
model = "gpt-5.1-codex"   # trailing
unknown_thing = 3
approval_policy = "on-request"

[sandbox_workspace_write]
writable_roots = ["/tmp/a", "/tmp/b"]
network_access = true

[model_providers.mock]
name = "Mock"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"
"#;

fn write(
    handle: &ConfigHandle,
    params: Value,
) -> Result<ConfigWriteResponse, codex_config::ConfigServiceError> {
    handle.write_value(serde_json::from_value::<ConfigValueWriteParams>(params).unwrap())
}

fn batch(
    handle: &ConfigHandle,
    params: Value,
) -> Result<ConfigWriteResponse, codex_config::ConfigServiceError> {
    handle.batch_write(serde_json::from_value::<ConfigBatchWriteParams>(params).unwrap())
}

fn user_version(handle: &ConfigHandle) -> String {
    let r = handle
        .read(ConfigReadParams {
            cwd: None,
            include_layers: true,
        })
        .unwrap();
    r.layers
        .unwrap()
        .iter()
        .find(|l| matches!(l.name, codex_protocol::v2::ConfigLayerSource::User { .. }))
        .unwrap()
        .version
        .clone()
}

fn code(err: codex_config::ConfigServiceError) -> ConfigWriteErrorCode {
    let rpc = err.to_rpc_error();
    assert_eq!(rpc.code, -32600, "{}", rpc.message);
    serde_json::from_value(rpc.data.unwrap()["config_write_error_code"].clone()).unwrap()
}

#[test]
fn value_write_keeps_comments_and_formatting_and_returns_the_new_version() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    let before = user_version(&handle);
    let r = write(&handle, json!({"keyPath": "model", "value": "o3", "mergeStrategy": "replace", "expectedVersion": before})).unwrap();
    assert_eq!(r.status, WriteStatus::Ok);
    assert_eq!(r.file_path, home.user_file());
    assert!(r.overridden_metadata.is_none());
    assert_eq!(
        r.version, "sha256:8093900a60d0138063baa04152246733e012a8d9bf8053fbad846e09156e4a22",
        "the official runtime's version for the same content"
    );
    assert_eq!(
        home.user_text(),
        FILE.replace("\"gpt-5.1-codex\"", "\"o3\"")
    );
    assert_eq!(user_version(&handle), r.version);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"status": "ok", "version": r.version, "filePath": home.user_file(), "overriddenMetadata": null})
    );
}

#[test]
fn a_stale_version_is_a_conflict_and_changes_nothing() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    let before = user_version(&handle);
    write(&handle, json!({"keyPath": "model", "value": "o3", "mergeStrategy": "replace", "expectedVersion": before})).unwrap();
    let err = write(&handle, json!({"keyPath": "model", "value": "o4", "mergeStrategy": "replace", "expectedVersion": before})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Configuration was modified since last read. Fetch latest version and retry."
    );
    assert_eq!(code(err), ConfigWriteErrorCode::ConfigVersionConflict);
    assert!(home.user_text().contains("model = \"o3\""));
    // A hand edit counts as a change too.
    let current = user_version(&handle);
    home.write_user(&home.user_text().replace("o3", "o5"));
    let err = write(&handle, json!({"keyPath": "model", "value": "o6", "mergeStrategy": "replace", "expectedVersion": current})).unwrap_err();
    assert_eq!(code(err), ConfigWriteErrorCode::ConfigVersionConflict);
}

#[test]
fn batch_write_upserts_clears_and_adds_sections_in_one_write() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    let r = batch(&handle, json!({"edits": [
        {"keyPath": "sandbox_workspace_write", "value": {"exclude_slash_tmp": true}, "mergeStrategy": "upsert"},
        {"keyPath": "unknown_thing", "value": null, "mergeStrategy": "replace"},
        {"keyPath": "model_providers.mock.name", "value": "Mock2", "mergeStrategy": "replace"},
        {"keyPath": "model_reasoning_effort", "value": "low", "mergeStrategy": "replace"},
        {"keyPath": "new_table.x", "value": 1, "mergeStrategy": "replace"},
        {"keyPath": "nope.deeper", "value": null, "mergeStrategy": "replace"},
    ]})).unwrap();
    assert_eq!(r.status, WriteStatus::Ok);
    assert_eq!(
        home.user_text(),
        r#"# my comment
model = "gpt-5.1-codex"   # trailing
approval_policy = "on-request"
model_reasoning_effort = "low"

[sandbox_workspace_write]
writable_roots = ["/tmp/a", "/tmp/b"]
network_access = true
exclude_slash_tmp = true

[model_providers.mock]
name = "Mock2"
base_url = "http://127.0.0.1:9/v1"
wire_api = "responses"

[new_table]
x = 1
"#
    );
}

#[test]
fn replace_swaps_a_whole_table_and_upsert_into_a_missing_key_creates_it() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    write(&handle, json!({"keyPath": "sandbox_workspace_write", "value": {"network_access": false}, "mergeStrategy": "replace"})).unwrap();
    let text = home.user_text();
    assert!(
        text.contains("[sandbox_workspace_write]\nnetwork_access = false\n"),
        "{text}"
    );
    assert!(!text.contains("writable_roots"), "{text}");
    // Segments that are not bare keys split at dots; quoted ones may hold dots.
    write(&handle, json!({"keyPath": "projects./w.trust_level", "value": "trusted", "mergeStrategy": "upsert"})).unwrap();
    write(&handle, json!({"keyPath": "projects.\"/w/v1.2\".trust_level", "value": "untrusted", "mergeStrategy": "upsert"})).unwrap();
    let table: toml::Table = home.user_text().parse().unwrap();
    assert_eq!(
        table["projects"]["/w"]["trust_level"].as_str(),
        Some("trusted")
    );
    assert_eq!(
        table["projects"]["/w/v1.2"]["trust_level"].as_str(),
        Some("untrusted")
    );
}

#[test]
fn writes_take_effect_for_new_settings_without_a_restart() {
    let home = Home::new();
    let handle = home.handle(&[]);
    let started = handle.settings();
    write(
        &handle,
        json!({"keyPath": "model", "value": "after", "mergeStrategy": "replace"}),
    )
    .unwrap();
    assert_eq!(handle.settings().model.as_deref(), Some("after"));
    assert_eq!(
        started.model, None,
        "settings already handed out do not change"
    );
    let cwd = home.path().to_path_buf();
    assert_eq!(
        handle
            .settings_for_thread(&cwd, &toml::Table::new())
            .unwrap()
            .model
            .as_deref(),
        Some("after")
    );
    // The file did not exist: it is created.
    assert_eq!(home.user_text(), "model = \"after\"\n");
}

#[test]
fn an_override_hides_the_written_value_and_says_which_layer() {
    let home = Home::new();
    let handle = home.handle(&["model_reasoning_effort=high"]);
    let r = write(
        &handle,
        json!({"keyPath": "model_reasoning_effort", "value": "low", "mergeStrategy": "replace"}),
    )
    .unwrap();
    assert_eq!(r.status, WriteStatus::OkOverridden);
    let meta = serde_json::to_value(r.overridden_metadata.unwrap()).unwrap();
    assert_eq!(meta["message"], "Overridden by session flags");
    assert_eq!(
        meta["overridingLayer"]["name"],
        json!({"type": "sessionFlags"})
    );
    assert_eq!(meta["effectiveValue"], "high");
    assert!(home
        .user_text()
        .contains("model_reasoning_effort = \"low\""));
}

#[test]
fn refusals_carry_their_codes_and_leave_the_file_alone() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    let cases = [
        (
            json!({"keyPath": "model_context_window", "value": "big", "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "model_context_window: expected an integer, found a string",
        ),
        (
            json!({"keyPath": "approval_policy", "value": "sometimes", "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "approval_policy: expected one of",
        ),
        (
            json!({"keyPath": "model", "value": "x", "mergeStrategy": "replace", "filePath": "/tmp/other.toml"}),
            ConfigWriteErrorCode::ConfigLayerReadonly,
            "Only writes to the user config are allowed",
        ),
        (
            json!({"keyPath": "model", "value": "x", "mergeStrategy": "replace", "filePath": "config.toml"}),
            ConfigWriteErrorCode::ConfigLayerReadonly,
            "Only writes to the user config are allowed",
        ),
        (
            json!({"keyPath": "", "value": "x", "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "keyPath must not be empty",
        ),
        (
            json!({"keyPath": "a..b", "value": "x", "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "invalid keyPath",
        ),
        (
            json!({"keyPath": "model.sub", "value": 1, "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigPathNotFound,
            "`model` holds a string, not a table",
        ),
        (
            json!({"keyPath": "x", "value": [1, null], "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "null cannot be stored",
        ),
        (
            json!({"keyPath": "x", "value": 18446744073709551615u64, "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "too large",
        ),
        (
            json!({"keyPath": "model_providers.mock.base_url", "value": "ftp://x", "mergeStrategy": "replace"}),
            ConfigWriteErrorCode::ConfigValidationError,
            "model_providers.mock.base_url: expected a URL",
        ),
    ];
    for (params, expected, message) in cases {
        let err = write(&handle, params.clone()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(message), "{params}: {text}");
        assert_eq!(code(err), expected, "{params}");
        assert_eq!(home.user_text(), FILE, "{params}");
    }
    // One bad edit fails the whole batch.
    let err = batch(
        &handle,
        json!({"edits": [
            {"keyPath": "model", "value": "fine", "mergeStrategy": "replace"},
            {"keyPath": "sandbox_mode", "value": "open", "mergeStrategy": "replace"},
        ]}),
    )
    .unwrap_err();
    assert_eq!(code(err), ConfigWriteErrorCode::ConfigValidationError);
    assert_eq!(home.user_text(), FILE);
    assert_eq!(handle.settings().model.as_deref(), Some("gpt-5.1-codex"));
}

#[test]
fn the_user_file_must_stay_valid_without_the_overrides() {
    let home = Home::new();
    let handle = home.handle(&["model_context_window=5"]);
    let err = write(
        &handle,
        json!({"keyPath": "model_context_window", "value": "x", "mergeStrategy": "replace"}),
    )
    .unwrap_err();
    assert_eq!(code(err), ConfigWriteErrorCode::ConfigValidationError);
    assert!(!home.user_file().exists());
}

#[test]
fn a_write_naming_the_user_file_explicitly_is_allowed() {
    let home = Home::new();
    let handle = home.handle(&[]);
    let r = write(&handle, json!({"keyPath": "model", "value": "m", "mergeStrategy": "replace", "filePath": home.user_file()})).unwrap();
    assert_eq!(r.file_path, home.user_file());
}

#[test]
fn clearing_a_missing_key_is_a_successful_no_op() {
    let home = Home::new();
    home.write_user(FILE);
    let handle = home.handle(&[]);
    let before = user_version(&handle);
    let r = write(
        &handle,
        json!({"keyPath": "nope.deeper", "value": null, "mergeStrategy": "replace"}),
    )
    .unwrap();
    assert_eq!((r.status, r.version), (WriteStatus::Ok, before));
    assert_eq!(home.user_text(), FILE);
}

#[cfg(unix)]
#[test]
fn the_file_is_replaced_atomically_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    home.write_user(FILE);
    std::fs::set_permissions(home.user_file(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let handle = home.handle(&[]);
    write(
        &handle,
        json!({"keyPath": "model", "value": "m", "mergeStrategy": "replace"}),
    )
    .unwrap();
    let mode = std::fs::metadata(home.user_file())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(home.codex_home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["config.toml"]);
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_written_through_to_its_target() {
    let home = Home::new();
    let real = home.write("dotfiles/codex.toml", FILE);
    std::os::unix::fs::symlink(&real, home.user_file()).unwrap();
    let handle = home.handle(&[]);
    write(
        &handle,
        json!({"keyPath": "model", "value": "linked", "mergeStrategy": "replace"}),
    )
    .unwrap();
    assert!(std::fs::symlink_metadata(home.user_file())
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(real)
        .unwrap()
        .contains("model = \"linked\""));
}

#[test]
fn concurrent_writes_are_serialised_and_none_is_lost() {
    let home = Home::new();
    let handle = home.handle(&[]);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for j in 0..5 {
                    write(&handle, json!({"keyPath": format!("t{i}.k{j}"), "value": j, "mergeStrategy": "replace"})).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let table: toml::Table = home.user_text().parse().unwrap();
    for i in 0..8 {
        for j in 0..5 {
            assert_eq!(
                table[&format!("t{i}")][&format!("k{j}")].as_integer(),
                Some(j),
                "t{i}.k{j}"
            );
        }
    }
    // Versioned writes: of two writers holding the same version, exactly one wins.
    let version = user_version(&handle);
    let outcomes: Vec<bool> = (0..2)
        .map(|i| {
            let handle = handle.clone();
            let version = version.clone();
            std::thread::spawn(move || {
                write(&handle, json!({"keyPath": "race", "value": i, "mergeStrategy": "replace", "expectedVersion": version})).is_ok()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1);
}
