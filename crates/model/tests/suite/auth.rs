//! auth.json storage and API key precedence.

use std::os::unix::fs::PermissionsExt;

use codex_model::{delete_auth, read_stored_api_key, resolve_api_key, write_api_key, ProviderInfo};

#[test]
fn write_read_delete_auth_json() {
    let home = tempfile::tempdir().unwrap();
    let codex_home = home.path().join("nested/codex");
    assert_eq!(read_stored_api_key(&codex_home), None);
    write_api_key(&codex_home, "sk-one").unwrap();
    let path = codex_home.join("auth.json");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["OPENAI_API_KEY"], "sk-one");
    assert_eq!(read_stored_api_key(&codex_home).as_deref(), Some("sk-one"));
    // Overwrite keeps the mode and leaves no temp file behind.
    write_api_key(&codex_home, "sk-two").unwrap();
    assert_eq!(read_stored_api_key(&codex_home).as_deref(), Some("sk-two"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(std::fs::read_dir(&codex_home).unwrap().count(), 1);
    assert!(delete_auth(&codex_home).unwrap());
    assert!(!delete_auth(&codex_home).unwrap());
    assert_eq!(read_stored_api_key(&codex_home), None);
}

#[test]
fn env_key_wins_over_stored_key() {
    let home = tempfile::tempdir().unwrap();
    write_api_key(home.path(), "sk-stored").unwrap();
    std::env::set_var("CODEX_MODEL_TEST_PROVIDER_KEY", "sk-from-env");
    let provider = ProviderInfo {
        id: "custom".into(),
        env_key: Some("CODEX_MODEL_TEST_PROVIDER_KEY".into()),
        ..ProviderInfo::default()
    };
    assert_eq!(
        resolve_api_key(&provider, home.path()).as_deref(),
        Some("sk-from-env")
    );
    if std::env::var("OPENAI_API_KEY").is_err() && std::env::var("CODEX_API_KEY").is_err() {
        let plain = ProviderInfo::default();
        assert_eq!(
            resolve_api_key(&plain, home.path()).as_deref(),
            Some("sk-stored")
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(resolve_api_key(&plain, empty.path()), None);
    }
}

#[test]
fn malformed_auth_json_yields_no_key() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("auth.json"), "{not json").unwrap();
    assert_eq!(read_stored_api_key(home.path()), None);
    std::fs::write(home.path().join("auth.json"), r#"{"OPENAI_API_KEY": null}"#).unwrap();
    assert_eq!(read_stored_api_key(home.path()), None);
}
