//! Provider resolution from config tables.

use std::time::Duration;

use codex_model::{providers_from_config, ModelError, ProviderInfo, WireApi};

fn parse(text: &str) -> toml::Table {
    text.parse().unwrap()
}

#[test]
fn builtins_without_config() {
    let providers = providers_from_config(&toml::Table::new()).unwrap();
    let openai = &providers["openai"];
    assert_eq!(openai.id, "openai");
    assert!(openai.requires_openai_auth);
    assert_eq!(openai.wire_api, WireApi::Responses);
    assert_eq!(openai.request_retries(), 4);
    assert_eq!(openai.stream_retries(), 5);
    assert_eq!(openai.stream_idle_timeout(), Duration::from_secs(300));
    assert_eq!(openai.env_http_headers["OpenAI-Project"], "OPENAI_PROJECT");
    assert!(providers.contains_key("oss"));
}

#[test]
fn user_tables_override_builtins_key_by_key_and_add_providers() {
    let config = parse(
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
    );
    let providers = providers_from_config(&config).unwrap();
    let openai = &providers["openai"];
    assert_eq!(openai.base_url.as_deref(), Some("http://127.0.0.1:9/v1"));
    assert_eq!(openai.name.as_deref(), Some("OpenAI"));
    assert!(openai.requires_openai_auth);
    let mock = &providers["mock"];
    assert_eq!(mock.id, "mock");
    assert_eq!(mock.display_name(), "Mock");
    assert_eq!(mock.base_url(), "http://127.0.0.1:1234/v1");
    assert_eq!(mock.wire_api, WireApi::Chat);
    assert_eq!(mock.request_retries(), 0);
    assert_eq!(mock.stream_retries(), 100, "capped");
    assert_eq!(mock.stream_idle_timeout(), Duration::from_millis(1500));
    assert_eq!(mock.query_params["api-version"], "1");
    assert!(!mock.requires_openai_auth);
}

#[test]
fn invalid_provider_tables_are_config_errors() {
    let bad_url = parse("[model_providers.x]\nbase_url = \"localhost:1\"\n");
    assert!(matches!(
        providers_from_config(&bad_url),
        Err(ModelError::Config(_))
    ));
    let bad_wire = parse("[model_providers.x]\nwire_api = \"grpc\"\n");
    assert!(matches!(
        providers_from_config(&bad_wire),
        Err(ModelError::Config(_))
    ));
    let not_table = parse("model_providers = 3\n");
    assert!(matches!(
        providers_from_config(&not_table),
        Err(ModelError::Config(_))
    ));
    let table = parse("name = \"n\"\nstream_max_retries = 2\n");
    let info = ProviderInfo::from_config("direct", &table).unwrap();
    assert_eq!((info.id.as_str(), info.stream_retries()), ("direct", 2));
}
