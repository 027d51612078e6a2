//! The committed `schema/` must equal what the types generate today.

use codex_protocol::schema;
use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema")
}

#[test]
fn committed_schema_matches_the_types() {
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        schema::write_all(&schema_dir()).unwrap();
    }
    let mut stale = Vec::new();
    for (name, fresh) in schema::files() {
        let path = schema_dir().join(&name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        if committed != fresh {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "schema/ is stale for {stale:?}; run `UPDATE_SCHEMA=1 cargo test -p codex-protocol` or `codex app-server generate-json-schema --out schema`"
    );
}

#[test]
fn bundle_names_the_types_clients_rely_on() {
    let bundle = schema::bundle();
    let defs = bundle["definitions"].as_object().unwrap();
    for name in [
        "ThreadStartResponse",
        "ThreadResumeResponse",
        "TurnCompletedNotification",
        "ItemCompletedNotification",
        "ThreadItem",
        "UserInput",
        "ThreadTokenUsage",
        "TurnError",
    ] {
        assert!(defs.contains_key(name), "missing definition {name}");
    }
    let item_titles: Vec<&str> = defs["ThreadItem"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["title"].as_str())
        .collect();
    assert!(item_titles.contains(&"AgentMessageThreadItem"));
}
