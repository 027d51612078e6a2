//! Loading: typed keys, the errors a bad value gives, overrides, providers, project layers.

use super::support::Home;
use codex_config::{
    apply_override, parse_overrides, settings_from_str, table_from_json, ConfigError, Settings,
};
use codex_model::WireApi;
use codex_protocol::v2::{
    ApprovalMode, ApprovalsReviewer, AskForApproval, GranularApproval, ReasoningEffort,
    ReasoningSummary, SandboxMode,
};
use std::path::PathBuf;
use std::time::Duration;
use toml::Table;

fn error_text(text: &str) -> String {
    settings_from_str(text).unwrap_err().to_string()
}

#[test]
fn overrides_parse_toml_then_fall_back_to_strings() {
    let ovs = parse_overrides(&[
        "model=o3".into(),
        "model_providers.mock.request_max_retries=0".into(),
        "sandbox_workspace_write.writable_roots=[\"/a\"]".into(),
        "projects.\"/a/b.c\".trust_level=trusted".into(),
    ])
    .unwrap();
    let mut t = Table::new();
    for o in &ovs {
        apply_override(&mut t, o);
    }
    assert_eq!(t["model"].as_str(), Some("o3"));
    assert_eq!(
        t["model_providers"]["mock"]["request_max_retries"].as_integer(),
        Some(0)
    );
    assert_eq!(
        t["sandbox_workspace_write"]["writable_roots"][0].as_str(),
        Some("/a")
    );
    assert_eq!(
        t["projects"]["/a/b.c"]["trust_level"].as_str(),
        Some("trusted")
    );
    for bad in ["novalue", "=x", "a..b=1", " =1"] {
        assert!(parse_overrides(&[bad.into()]).is_err(), "{bad}");
    }
}

#[test]
fn syntax_error_names_path_and_line() {
    let home = Home::new();
    home.write_user("model = \"a\"\n\nthis is = = bad\n");
    let msg = home.load(&[]).unwrap_err().to_string();
    assert!(msg.contains("config.toml:3:"), "{msg}");
}

#[test]
fn wrong_type_names_file_line_key_expected_and_found() {
    let home = Home::new();
    home.write_user("model = \"a\"\n# comment\nmodel_context_window = \"big\"\n");
    let err = home.load(&[]).unwrap_err();
    let file = home.user_file();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:3: model_context_window: expected an integer, found a string",
            file.display()
        )
    );
    assert!(matches!(err, ConfigError::Invalid { line: Some(3), .. }));
}

#[test]
fn nested_and_enum_errors_name_the_full_key() {
    assert_eq!(
        error_text("[sandbox_workspace_write]\nnetwork_access = \"yes\"\n"),
        "config.toml:2: sandbox_workspace_write.network_access: expected a boolean, found a string"
    );
    assert_eq!(
        error_text("sandbox_mode = \"wide-open\"\n"),
        "config.toml:1: sandbox_mode: expected one of `read-only`, `workspace-write`, `danger-full-access`, found `wide-open`"
    );
    assert_eq!(
        error_text("approval_policy = \"sometimes\"\n"),
        "config.toml:1: approval_policy: expected one of `untrusted`, `on-failure`, `on-request`, `never`, found `sometimes`"
    );
    assert_eq!(
        error_text("[model_providers.x]\nstream_max_retries = -1\n"),
        "config.toml:2: model_providers.x.stream_max_retries: expected an integer between 0 and 4294967295, found -1"
    );
    assert_eq!(
        error_text("[sandbox_workspace_write]\nwritable_roots = [\"/a\", 3]\n"),
        "config.toml:2: sandbox_workspace_write.writable_roots.1: expected a string, found an integer"
    );
    assert_eq!(
        error_text("model_providers = 3\n"),
        "config.toml:1: model_providers: expected a table, found an integer"
    );
    assert_eq!(
        error_text("approval_policy = { granular = { rules = true } }\n"),
        "config.toml:1: approval_policy.granular: missing key `sandbox_approval`"
    );
    assert_eq!(
        error_text("[model_providers.x]\nbase_url = \"localhost:1\"\n"),
        "config.toml:2: model_providers.x.base_url: expected a URL starting with http:// or https://, found \"localhost:1\""
    );
}

#[test]
fn typed_values_and_defaults() {
    let s = settings_from_str(
        r#"
        model = "m"
        approval_policy = "never"
        approvals_reviewer = "auto_review"
        sandbox_mode = "workspace-write"
        model_reasoning_effort = "high"
        model_reasoning_summary = "concise"
        model_context_window = 1000
        model_auto_compact_token_limit = 900
        project_doc_max_bytes = 0
        [sandbox_workspace_write]
        writable_roots = ["/x"]
        network_access = true
        [app_server]
        max_line_bytes = 4096
        "#,
    )
    .unwrap();
    assert_eq!(s.model.as_deref(), Some("m"));
    assert_eq!(
        s.approval_policy,
        Some(AskForApproval::Mode(ApprovalMode::Never))
    );
    assert_eq!(s.approvals_reviewer, Some(ApprovalsReviewer::AutoReview));
    assert_eq!(s.sandbox_mode, Some(SandboxMode::WorkspaceWrite));
    assert_eq!(s.reasoning_effort, Some(ReasoningEffort::High));
    assert_eq!(s.reasoning_summary, Some(ReasoningSummary::Concise));
    assert_eq!(s.model_context_window, Some(1000));
    assert_eq!(s.auto_compact_token_limit, Some(900));
    assert_eq!(s.project_doc_max_bytes, 0);
    assert_eq!(s.writable_roots, vec![PathBuf::from("/x")]);
    assert!(s.network_access && !s.exclude_slash_tmp);
    assert_eq!(s.max_line_bytes, Some(4096));

    let defaults = settings_from_str("").unwrap();
    assert_eq!(defaults.model, None);
    assert_eq!(defaults.model_provider, "openai");
    assert_eq!(defaults.project_doc_max_bytes, 32 * 1024);
    assert_eq!(defaults.approval_policy, None);

    let granular = settings_from_str(
        "approval_policy = { granular = { sandbox_approval = true, rules = false, mcp_elicitations = true } }\n",
    )
    .unwrap();
    assert_eq!(
        granular.approval_policy,
        Some(AskForApproval::Granular {
            granular: GranularApproval {
                sandbox_approval: true,
                rules: false,
                mcp_elicitations: true,
                request_permissions: false,
                skill_approval: false,
            }
        })
    );
}

#[test]
fn unknown_keys_are_tolerated_and_overrides_win() {
    let home = Home::new();
    home.write_user("model = \"a\"\nwhatever = 3\n[mcp_servers.x]\ncommand = \"y\"\n[sandbox_workspace_write]\nfuture_key = 1\n");
    let cfg = home.load(&["model=b"]).unwrap();
    assert_eq!(
        cfg.settings(&Table::new()).unwrap().model.as_deref(),
        Some("b")
    );
    // Unknown keys stay in the merged table for whoever reads it.
    assert_eq!(cfg.raw["whatever"].as_integer(), Some(3));
}

#[test]
fn a_bad_override_is_blamed_on_the_overrides() {
    let home = Home::new();
    let msg = home
        .load(&["model_context_window=\"x\""])
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "-c overrides: model_context_window: expected an integer, found a string"
    );
}

#[test]
fn thread_config_overlays_deeply_and_is_blamed_for_its_own_errors() {
    let home = Home::new();
    home.write_user("[sandbox_workspace_write]\nwritable_roots = [\"/a\"]\n");
    let cfg = home.load(&[]).unwrap();
    let map = serde_json::json!({
        "sandbox_workspace_write.network_access": true,
        "model": "thread-model",
        "ignored": null,
    });
    let extra = table_from_json(map.as_object().unwrap());
    let s = cfg.settings(&extra).unwrap();
    assert_eq!(s.model.as_deref(), Some("thread-model"));
    assert!(s.network_access);
    assert_eq!(
        s.writable_roots,
        vec![PathBuf::from("/a")],
        "merged, not replaced"
    );

    let bad = table_from_json(
        serde_json::json!({"model_reasoning_effort": "maximal"})
            .as_object()
            .unwrap(),
    );
    let msg = cfg.settings(&bad).unwrap_err().to_string();
    assert!(
        msg.starts_with("thread config: model_reasoning_effort: expected one of"),
        "{msg}"
    );
}

#[test]
fn providers_override_builtins_key_by_key_and_add_new_ones() {
    let builtins = settings_from_str("").unwrap();
    let openai = &builtins.providers["openai"];
    assert_eq!(openai.id, "openai");
    assert!(openai.requires_openai_auth);
    assert_eq!(openai.wire_api, WireApi::Responses);
    assert_eq!(openai.request_retries(), 4);
    assert_eq!(openai.stream_retries(), 5);
    assert_eq!(openai.stream_idle_timeout(), Duration::from_secs(300));
    assert_eq!(openai.env_http_headers["OpenAI-Project"], "OPENAI_PROJECT");
    assert!(builtins.providers.contains_key("oss"));

    let s = settings_from_str(
        r#"
        model = "mock-model"
        [model_providers.openai]
        base_url = "http://127.0.0.1:9/v1"

        [model_providers.mock]
        name = "Mock"
        base_url = "http://127.0.0.1:1234/v1/"
        wire_api = "chat"
        env_key = "MOCK_KEY"
        request_max_retries = 0
        stream_max_retries = 1000
        stream_idle_timeout_ms = 1500
        query_params = { api-version = "1" }
        http_headers = { x-a = "b" }
        "#,
    )
    .unwrap();
    let openai = &s.providers["openai"];
    assert_eq!(openai.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
    assert_eq!(openai.name.as_deref(), Some("OpenAI"));
    assert!(openai.requires_openai_auth);
    let mock = &s.providers["mock"];
    assert_eq!(mock.id, "mock");
    assert_eq!(mock.display_name(), "Mock");
    assert_eq!(mock.base_url(), "http://127.0.0.1:1234/v1");
    assert_eq!(mock.wire_api, WireApi::Chat);
    assert_eq!(mock.request_retries(), 0);
    assert_eq!(mock.stream_retries(), 100, "capped");
    assert_eq!(mock.stream_idle_timeout(), Duration::from_millis(1500));
    assert_eq!(mock.query_params["api-version"], "1");
    assert!(!mock.requires_openai_auth);
    assert!(s.provider("mock").is_ok());
    assert!(s.provider("nope").is_err());

    assert!(error_text("[model_providers.x]\nwire_api = \"grpc\"\n")
        .contains("model_providers.x.wire_api: expected one of `responses`, `chat`, found `grpc`"));
}

#[test]
fn instructions_file_is_read_relative_to_the_file_that_names_it() {
    let home = Home::new();
    std::fs::write(home.codex_home().join("base.md"), "custom base").unwrap();
    home.write_user("model_instructions_file = \"base.md\"\n");
    let s = home.load(&[]).unwrap().settings(&Table::new()).unwrap();
    assert_eq!(s.base_instructions.as_deref(), Some("custom base"));

    home.write_user("experimental_instructions_file = \"missing.md\"\n");
    let msg = home.load(&[]).unwrap_err().to_string();
    assert!(
        msg.contains("experimental_instructions_file") && msg.contains("missing.md"),
        "{msg}"
    );
}

#[test]
fn an_instructions_file_over_the_limit_is_refused_unread() {
    let home = Home::new();
    let big = home.codex_home().join("huge.md");
    std::fs::write(&big, vec![b'a'; 1024 * 1024 + 1]).unwrap();
    home.write_user("model_instructions_file = \"huge.md\"\n");
    let msg = home.load(&[]).unwrap_err().to_string();
    assert!(
        msg.contains("model_instructions_file") && msg.contains("byte limit"),
        "{msg}"
    );
}

#[test]
fn fuzz_entry_point_survives_every_truncation_and_byte_flip() {
    let valid = r#"model = "m"
approval_policy = { granular = { sandbox_approval = true, rules = false, mcp_elicitations = true } }
[sandbox_workspace_write]
writable_roots = ["/a", "/b"]
[model_providers.x]
base_url = "http://h/v1"
query_params = { a = "b" }
[projects."/p"]
trust_level = "trusted"
"#;
    assert!(settings_from_str(valid).is_ok());
    let bytes = valid.as_bytes();
    for cut in 0..bytes.len() {
        if let Ok(prefix) = std::str::from_utf8(&bytes[..cut]) {
            let _ = settings_from_str(prefix);
        }
    }
    for at in 0..bytes.len() {
        for replacement in [b'"', b'[', b'=', b'1', b'\n', b'{', b'.'] {
            let mut mutated = bytes.to_vec();
            mutated[at] = replacement;
            if let Ok(text) = std::str::from_utf8(&mutated) {
                if let Err(err) = settings_from_str(text) {
                    assert!(!err.to_string().is_empty());
                }
            }
        }
    }
}

#[test]
fn fuzz_entry_point_never_reads_files() {
    let s = settings_from_str("model_instructions_file = \"/definitely/not/here.md\"\n").unwrap();
    assert_eq!(s.base_instructions, None);
    for junk in [
        "\u{0}",
        "[[a]]\n[a]",
        "a = 1\na = 2",
        "x = 1979-05-27T07:32:00Z\nmodel = 1979-05-27",
    ] {
        let _ = settings_from_str(junk);
    }
}

#[test]
fn system_layer_sits_below_the_user_file() {
    let home = Home::new();
    std::fs::create_dir_all(home.system_file().parent().unwrap()).unwrap();
    std::fs::write(
        home.system_file(),
        "model = \"sys\"\nmodel_context_window = 5\n",
    )
    .unwrap();
    home.write_user("model = \"user\"\n");
    let s = home.load(&[]).unwrap().settings(&Table::new()).unwrap();
    assert_eq!(s.model.as_deref(), Some("user"));
    assert_eq!(s.model_context_window, Some(5));
}

#[test]
fn project_layers_apply_only_to_trusted_projects() {
    let home = Home::new();
    let repo = home.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    home.write("repo/.codex/config.toml", "model = \"repo-model\"\n");
    home.write("repo/sub/.codex/config.toml", "model_context_window = 7\n");
    let sub = repo.join("sub");

    let untrusted = home.load(&[]).unwrap();
    let s = untrusted.settings_for_cwd(&sub, &Table::new()).unwrap();
    assert_eq!(s.model, None, "an untrusted project's config is ignored");
    let layers = untrusted.project_layers(&sub).unwrap();
    assert_eq!(layers.len(), 2);
    assert!(layers.iter().all(|l| l
        .disabled_reason
        .as_deref()
        .is_some_and(|r| r.contains("as a trusted project"))));

    home.write_user(&format!(
        "model = \"user\"\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        repo.display()
    ));
    let trusted = home.load(&["model_auto_compact_token_limit=3"]).unwrap();
    let s = trusted.settings_for_cwd(&sub, &Table::new()).unwrap();
    assert_eq!(s.model.as_deref(), Some("repo-model"));
    assert_eq!(
        s.model_context_window,
        Some(7),
        "the deeper folder applies too"
    );
    assert_eq!(s.auto_compact_token_limit, Some(3), "-c stays on top");
    // Outside the project nothing changes.
    let s = trusted
        .settings_for_cwd(home.path(), &Table::new())
        .unwrap();
    assert_eq!(s.model.as_deref(), Some("user"));

    // A bad value in a trusted project file names that file.
    home.write("repo/.codex/config.toml", "model = 5\n");
    let msg = trusted
        .settings_for_cwd(&sub, &Table::new())
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with(&format!(
            "{}:1: model: expected a string",
            repo.join(".codex/config.toml").display()
        )),
        "{msg}"
    );
}

#[test]
fn settings_from_table_keeps_working_for_plain_tables() {
    let t: Table = "model = \"x\"\nsandbox_mode = \"read-only\"\n"
        .parse()
        .unwrap();
    let s = Settings::from_table(&t).unwrap();
    assert_eq!(s.sandbox_mode, Some(SandboxMode::ReadOnly));
    let bad: Table = "sandbox_mode = 1\n".parse().unwrap();
    assert_eq!(
        Settings::from_table(&bad).unwrap_err().to_string(),
        "config: sandbox_mode: expected one of `read-only`, `workspace-write`, `danger-full-access`, found an integer"
    );
}

#[test]
fn thread_settings_share_the_current_value_unless_a_project_or_map_adds_something() {
    let home = Home::new();
    let repo = home.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    home.write("repo/.codex/config.toml", "model = \"repo-model\"\n");
    home.write_user(&format!(
        "model = \"user\"\n[projects.\"{}\"]\ntrust_level = \"trusted\"\n",
        repo.display()
    ));
    let handle = home.handle(&[]);
    let outside = handle
        .settings_for_thread(home.path(), &Table::new())
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&outside, &handle.settings()));
    let inside = handle.settings_for_thread(&repo, &Table::new()).unwrap();
    assert_eq!(inside.model.as_deref(), Some("repo-model"));
    let extra = table_from_json(serde_json::json!({"model": "mine"}).as_object().unwrap());
    let mapped = handle.settings_for_thread(&repo, &extra).unwrap();
    assert_eq!(mapped.model.as_deref(), Some("mine"));
}
