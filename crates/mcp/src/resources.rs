//! The three resource tools the model can call: `list_mcp_resources`,
//! `list_mcp_resource_templates` and `read_mcp_resource`, with the official payloads: every
//! entry carries its `server`; one server can be paged with `cursor`; a read returns
//! `{server, uri, contents}`. Each answer is a JSON string; failures are messages for the
//! model.

use crate::error::McpError;
use crate::manager::{McpManager, SlotState};
use crate::tools::ResourceTool;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

#[derive(Deserialize, Default)]
struct ListArgs {
    #[serde(default)]
    server: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct ReadArgs {
    server: String,
    uri: String,
}

pub(crate) async fn run(
    manager: &McpManager,
    tool: ResourceTool,
    arguments: Option<&Value>,
    cancel: &CancellationToken,
) -> Result<String, String> {
    let arguments = arguments.cloned().unwrap_or_else(|| json!({}));
    let payload = match tool {
        ResourceTool::ListResources | ResourceTool::ListResourceTemplates => {
            let args: ListArgs = parse(arguments)?;
            let server = args.server.filter(|s| !s.trim().is_empty());
            let cursor = args.cursor.filter(|s| !s.trim().is_empty());
            list(manager, tool, server, cursor, cancel).await?
        }
        ResourceTool::ReadResource => {
            let args: ReadArgs = parse(arguments)?;
            let contents = read(manager, &args.server, &args.uri, cancel)
                .await
                .map_err(|e| format!("resources/read failed: {e}"))?;
            json!({"server": args.server, "uri": args.uri, "contents": contents})
        }
    };
    serde_json::to_string(&payload).map_err(|e| e.to_string())
}

fn parse<T: for<'de> Deserialize<'de>>(arguments: Value) -> Result<T, String> {
    serde_json::from_value(arguments)
        .map_err(|e| format!("failed to parse function arguments: {e}"))
}

async fn list(
    manager: &McpManager,
    tool: ResourceTool,
    server: Option<String>,
    cursor: Option<String>,
    cancel: &CancellationToken,
) -> Result<Value, String> {
    let (key, method) = match tool {
        ResourceTool::ListResourceTemplates => ("resourceTemplates", "resources/templates/list"),
        _ => ("resources", "resources/list"),
    };
    let failed = |e: McpError| format!("{method} failed: {e}");
    match server {
        Some(server) => {
            let (slot, live) = manager.live(&server, cancel).await.map_err(failed)?;
            let timeout = slot.config.tool_timeout;
            let page = async {
                match tool {
                    ResourceTool::ListResourceTemplates => live
                        .conn
                        .list_resource_templates(cursor)
                        .await
                        .map(|(items, next)| (to_values(&items), next)),
                    _ => live
                        .conn
                        .list_resources(cursor)
                        .await
                        .map(|(items, next)| (to_values(&items), next)),
                }
            };
            let (items, next) = tokio::time::timeout(timeout, page)
                .await
                .map_err(|_| failed(McpError::Timeout { method, timeout }))?
                .map_err(failed)?;
            let mut payload = Map::new();
            payload.insert("server".into(), json!(server));
            payload.insert(key.into(), Value::Array(with_server(&server, items)));
            if let Some(next) = next {
                payload.insert("nextCursor".into(), json!(next));
            }
            Ok(Value::Object(payload))
        }
        None => {
            if cursor.is_some() {
                return Err("cursor can only be used when a server is specified".to_string());
            }
            let mut all = Vec::new();
            for slot in manager.slots() {
                // Servers that are not ready contribute nothing, as upstream.
                let SlotState::Ready(live) = slot.state() else {
                    continue;
                };
                let items = tokio::time::timeout(slot.config.tool_timeout, async {
                    match tool {
                        ResourceTool::ListResourceTemplates => live
                            .conn
                            .list_all_resource_templates()
                            .await
                            .map(|items| to_values(&items)),
                        _ => live
                            .conn
                            .list_all_resources()
                            .await
                            .map(|items| to_values(&items)),
                    }
                })
                .await;
                if let Ok(Ok(items)) = items {
                    all.extend(with_server(&slot.name, items));
                }
            }
            Ok(json!({ key: all }))
        }
    }
}

/// `resources/read` on one server, starting it if needed, under its `tool_timeout_sec`.
pub(crate) async fn read(
    manager: &McpManager,
    server: &str,
    uri: &str,
    cancel: &CancellationToken,
) -> Result<Vec<codex_protocol::v2::ResourceContent>, McpError> {
    let (slot, live) = manager.live(server, cancel).await?;
    let timeout = slot.config.tool_timeout;
    match tokio::time::timeout(timeout, live.conn.read_resource(uri)).await {
        Ok(Err(error @ McpError::ConnectionClosed { .. })) => {
            manager.connection_lost(&slot, &live);
            Err(error)
        }
        Ok(result) => result,
        Err(_) => Err(McpError::Timeout {
            method: "resources/read",
            timeout,
        }),
    }
}

fn to_values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|item| serde_json::to_value(item).ok())
        .collect()
}

fn with_server(server: &str, items: Vec<Value>) -> Vec<Value> {
    items
        .into_iter()
        .map(|item| {
            let mut entry = Map::new();
            entry.insert("server".into(), json!(server));
            if let Value::Object(fields) = item {
                entry.extend(fields);
            }
            Value::Object(entry)
        })
        .collect()
}
