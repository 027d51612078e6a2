//! JSON Schema export: one draft-07 bundle of every protocol type plus a method table, the
//! files committed under `schema/` and consumed by the Python SDK's model generator.

use crate::methods::{self, MethodRow};
use schemars::gen::SchemaSettings;
use serde_json::{json, Value};
use std::path::Path;

/// File name of the bundle inside the schema directory.
pub const BUNDLE_FILE: &str = "codex_app_server_protocol.v2.schemas.json";
/// File name of the method table inside the schema directory.
pub const METHODS_FILE: &str = "methods.json";

/// The bundle: every type under `definitions`, draft-07, keys sorted (serde_json's default map).
pub fn bundle() -> Value {
    let mut settings = SchemaSettings::draft07();
    settings.option_add_null_type = true;
    let mut gen = settings.into_generator();
    methods::register_all(&mut gen);
    let definitions = gen.take_definitions();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "CodexAppServerProtocolV2",
        "type": "object",
        "definitions": definitions,
    })
}

fn rows(table: &[MethodRow]) -> Value {
    Value::Array(
        table
            .iter()
            .map(|r| json!({"method": r.name, "params": r.params, "result": r.result}))
            .collect(),
    )
}

/// The method table as JSON: the SDK's notification registry is generated from it.
pub fn method_table() -> Value {
    json!({
        "serverVersion": crate::SERVER_VERSION,
        "clientRequests": rows(methods::CLIENT_REQUESTS),
        "clientNotifications": rows(methods::CLIENT_NOTIFICATIONS),
        "serverNotifications": rows(methods::SERVER_NOTIFICATIONS),
        "serverRequests": rows(methods::SERVER_REQUESTS),
    })
}

/// Every file of the schema directory, as (relative path, pretty JSON text with trailing newline).
pub fn files() -> Vec<(String, String)> {
    let pretty = |v: &Value| {
        let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
        s.push('\n');
        s
    };
    vec![
        (BUNDLE_FILE.to_string(), pretty(&bundle())),
        (METHODS_FILE.to_string(), pretty(&method_table())),
    ]
}

/// Writes the schema directory.
pub fn write_all(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, text) in files() {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(())
}
