//! `model/list`: the configured model, the provider's `GET /models`, hidden entries, and a
//! provider without a models endpoint.

use super::harness::{Env, Server};
use codex_protocol::methods::ModelList;
use serde_json::{json, Value};

fn model_ids(result: &Value) -> Vec<String> {
    result["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_string())
        .collect()
}

#[tokio::test]
async fn model_list_merges_provider_models_and_honours_include_hidden() {
    let env = Env::new().await;
    env.mock.set_models(vec![
        json!({"id": "mock-extra", "object": "model"}),
        json!({"id": "mock-secret", "object": "model", "visibility": "hide"}),
    ]);
    let mut server = env.server(&[]).await;
    let visible = server
        .call::<ModelList>(json!({"includeHidden": false}))
        .await;
    let ids = model_ids(&visible);
    assert_eq!(ids, vec!["mock-model", "mock-extra"], "{visible}");
    let default = &visible["data"][0];
    assert_eq!(default["isDefault"], true);
    assert_eq!(default["hidden"], false);
    for key in [
        "model",
        "displayName",
        "description",
        "defaultReasoningEffort",
    ] {
        assert!(
            default.get(key).is_some(),
            "model entry lacks {key}: {default}"
        );
    }
    assert!(default["supportedReasoningEfforts"].is_array());
    assert!(visible.get("nextCursor").is_some());

    let all = server
        .call::<ModelList>(json!({"includeHidden": true}))
        .await;
    assert_eq!(
        model_ids(&all),
        vec!["mock-model", "mock-extra", "mock-secret"],
        "{all}"
    );
    let secret = &all["data"][2];
    assert_eq!(secret["hidden"], true);
    assert!(env
        .mock
        .requests()
        .iter()
        .any(|r| r.method == "GET" && r.path.ends_with("/models")));
}

#[tokio::test]
async fn model_list_without_a_provider_endpoint_gives_the_configured_model() {
    let env = Env::new().await;
    // A port with nothing listening: the provider cannot answer.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let overrides = vec![
        r#"model="configured-model""#.to_string(),
        r#"model_provider="dead""#.to_string(),
        format!(
            r#"model_providers.dead={{name="dead", base_url="http://127.0.0.1:{closed}/v1", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#
        ),
    ];
    let mut server = Server::spawn(env.home.path(), env.work.path(), &overrides);
    server.initialize().await;
    for hidden in [false, true] {
        let r = server
            .call::<ModelList>(json!({"includeHidden": hidden}))
            .await;
        assert_eq!(model_ids(&r), vec!["configured-model"], "{r}");
        assert_eq!(r["data"][0]["isDefault"], true);
    }
}
