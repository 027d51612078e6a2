//! `config/read`: the effective config, origins, layers, versions; reload on demand.

use super::support::Home;
use codex_protocol::v2::{ConfigLayerSource, ConfigReadParams};
use serde_json::json;

/// The file and `-c` flags of a capture from the official 0.163 runtime, whose versions are
/// known: our versions must be the same strings.
const CAPTURED_USER_FILE: &str = r#"# my comment
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
const CAPTURED_USER_VERSION: &str =
    "sha256:5df2607c98c350acb5050a5018617ba3f41c240245d4fe2390081936e37e3ddd";
const CAPTURED_FLAGS: &[&str] = &[
    "model_reasoning_effort=high",
    "sandbox_workspace_write.network_access=false",
];
const CAPTURED_FLAGS_VERSION: &str =
    "sha256:9c72588fed5fcce682dcd49b5cb4941337c624f191a10ec4859b107e647152bb";
const EMPTY_VERSION: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn read(home: &Home, flags: &[&str], params: serde_json::Value) -> serde_json::Value {
    let handle = home.handle(flags);
    let params: ConfigReadParams = serde_json::from_value(params).unwrap();
    serde_json::to_value(handle.read(params).unwrap()).unwrap()
}

#[test]
fn effective_config_origins_and_layers_match_the_official_shape() {
    let home = Home::new();
    home.write_user(CAPTURED_USER_FILE);
    let r = read(&home, CAPTURED_FLAGS, json!({"includeLayers": true}));
    let config = &r["config"];
    assert_eq!(config["model"], "gpt-5.1-codex");
    assert_eq!(config["model_reasoning_effort"], "high");
    assert_eq!(
        config["sandbox_workspace_write"],
        json!({"writable_roots": ["/tmp/a", "/tmp/b"], "network_access": false})
    );
    assert_eq!(config["model_providers"]["mock"]["wire_api"], "responses");

    let user = json!({"name": {"type": "user", "file": home.user_file(), "profile": null},
                      "version": CAPTURED_USER_VERSION});
    let flags = json!({"name": {"type": "sessionFlags"}, "version": CAPTURED_FLAGS_VERSION});
    let origins = &r["origins"];
    assert_eq!(origins["model"], user);
    assert_eq!(origins["unknown_thing"], user);
    assert_eq!(origins["sandbox_workspace_write.writable_roots.1"], user);
    assert_eq!(origins["sandbox_workspace_write.network_access"], flags);
    assert_eq!(origins["model_reasoning_effort"], flags);
    assert_eq!(origins.as_object().unwrap().len(), 10);

    let layers = r["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3, "flags, user, system: highest first");
    assert_eq!(layers[0]["name"], json!({"type": "sessionFlags"}));
    assert_eq!(
        layers[0]["config"],
        json!({"model_reasoning_effort": "high", "sandbox_workspace_write": {"network_access": false}})
    );
    assert_eq!(layers[1]["name"]["type"], "user");
    assert_eq!(layers[1]["version"], CAPTURED_USER_VERSION);
    assert_eq!(layers[1]["config"]["unknown_thing"], 3);
    assert!(layers[1].get("disabledReason").is_none());
    assert_eq!(
        layers[2],
        json!({"name": {"type": "system", "file": home.system_file()}, "version": EMPTY_VERSION, "config": {}})
    );
}

#[test]
fn layers_only_with_include_layers_and_no_flags_layer_without_flags() {
    let home = Home::new();
    let r = read(&home, &[], json!({}));
    assert!(
        r.get("layers").is_none(),
        "absent, as the official runtime answers"
    );
    assert_eq!(r["config"], json!({}));
    assert_eq!(r["origins"], json!({}));
    let r = read(&home, &[], json!({"includeLayers": true}));
    let types: Vec<&str> = r["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["user", "system"]);
    assert_eq!(r["layers"][0]["version"], EMPTY_VERSION);
}

#[test]
fn cwd_adds_project_layers_disabled_until_trusted() {
    let home = Home::new();
    let repo = home.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    home.write("repo/.codex/config.toml", "model = \"proj-model\"\n");
    let dot_codex = repo.join(".codex");

    let r = read(&home, &[], json!({"cwd": repo, "includeLayers": true}));
    assert_eq!(r["config"].get("model"), None);
    let project = &r["layers"][0];
    assert_eq!(
        project["name"],
        json!({"type": "project", "dotCodexFolder": dot_codex})
    );
    assert_eq!(project["config"], json!({"model": "proj-model"}));
    assert_eq!(
        project["disabledReason"],
        format!(
            "To load project-local config, hooks, and exec policies, add {} as a trusted project in {}.",
            repo.display(),
            home.user_file().display()
        )
    );

    home.write_user(&format!(
        "[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        repo.display()
    ));
    let r = read(
        &home,
        &[],
        json!({"cwd": repo.join("src"), "includeLayers": true}),
    );
    assert_eq!(r["config"]["model"], "proj-model");
    assert_eq!(r["origins"]["model"]["name"]["type"], "project");
    assert!(r["layers"][0].get("disabledReason").is_none());

    // Without cwd the answer is thread-agnostic.
    let r = read(&home, &[], json!({}));
    assert_eq!(r["config"].get("model"), None);
}

#[test]
fn a_broken_file_is_an_internal_error_naming_the_key() {
    let home = Home::new();
    let handle = home.handle(&[]);
    home.write_user("model_context_window = \"x\"\n");
    let err = handle.read(ConfigReadParams::default()).unwrap_err();
    let rpc = err.to_rpc_error();
    assert_eq!(rpc.code, -32603);
    assert!(
        rpc.message
            .ends_with(":1: model_context_window: expected an integer, found a string"),
        "{}",
        rpc.message
    );
    // The last good configuration stays current.
    assert_eq!(handle.settings().model_context_window, None);
}

#[test]
fn read_makes_hand_edits_current_and_reload_does_too() {
    let home = Home::new();
    let handle = home.handle(&[]);
    assert_eq!(handle.settings().model, None);
    home.write_user("model = \"edited\"\n");
    handle.read(ConfigReadParams::default()).unwrap();
    assert_eq!(handle.settings().model.as_deref(), Some("edited"));
    home.write_user("model = \"again\"\n");
    assert_eq!(handle.reload().unwrap().model.as_deref(), Some("again"));
    assert_eq!(handle.settings().model.as_deref(), Some("again"));
}

#[test]
fn layer_sources_serialize_as_the_official_ones() {
    let cases = [
        (
            ConfigLayerSource::User {
                file: "/h/config.toml".into(),
                profile: None,
            },
            json!({"type": "user", "file": "/h/config.toml", "profile": null}),
        ),
        (
            ConfigLayerSource::SessionFlags,
            json!({"type": "sessionFlags"}),
        ),
        (
            ConfigLayerSource::Project {
                dot_codex_folder: "/r/.codex".into(),
            },
            json!({"type": "project", "dotCodexFolder": "/r/.codex"}),
        ),
        (
            ConfigLayerSource::LegacyManagedConfigTomlFromMdm,
            json!({"type": "legacyManagedConfigTomlFromMdm"}),
        ),
    ];
    for (source, wire) in cases {
        assert_eq!(serde_json::to_value(&source).unwrap(), wire);
        assert_eq!(
            serde_json::from_value::<ConfigLayerSource>(wire).unwrap(),
            source
        );
    }
}
