//! What the model is shown, and how its calls resolve.

use super::support::*;
use codex_mcp::{McpCallTarget, ResourceTool};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

fn namespace<'a>(specs: &'a [Value], name: &str) -> &'a Value {
    specs
        .iter()
        .find(|s| s["type"] == "namespace" && s["name"] == name)
        .unwrap_or_else(|| panic!("no namespace {name} in {specs:#?}"))
}

fn function_names(namespace: &Value) -> Vec<&str> {
    namespace["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_filters_and_resource_tools_as_official() {
    let root = tempfile::tempdir().unwrap();
    let mut fs = filesystem(root.path());
    fs.enabled_tools = Some(vec![
        "move_file".into(),
        "read_text_file".into(),
        "write_file".into(),
    ]);
    fs.disabled_tools = vec!["write_file".into()];
    let h = harness(config(vec![
        ("fs", fs),
        ("time", time()),
        ("every-thing", everything()),
    ]));
    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    let specs = tools.model_tools();

    // The three resource tools come first, then one namespace per server, sorted.
    let names: Vec<&str> = specs.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "list_mcp_resources",
            "list_mcp_resource_templates",
            "read_mcp_resource",
            "mcp__every_thing",
            "mcp__fs",
            "mcp__time"
        ]
    );
    assert_eq!(specs[2]["parameters"]["required"], json!(["server", "uri"]));

    let fs = namespace(&specs, "mcp__fs");
    assert_eq!(fs["description"], "Tools in the mcp__fs namespace.");
    assert_eq!(
        function_names(fs),
        ["move_file", "read_text_file"],
        "filters applied"
    );

    let time_ns = namespace(&specs, "mcp__time");
    let current = &time_ns["tools"][1];
    assert_eq!(
        current,
        &json!({
            "type": "function",
            "name": "get_current_time",
            "description": "Get current time in a specific timezone",
            "strict": false,
            "parameters": {"type": "object", "required": ["timezone"], "properties": {
                "timezone": {"type": "string", "description": "IANA timezone name (e.g., 'America/New_York', 'Europe/London'). Use 'Etc/UTC' as local timezone if no timezone provided by the user."}
            }}
        }),
        "title dropped at every level"
    );

    // The server's instructions describe its namespace; hyphenated tools are sanitised.
    let every = namespace(&specs, "mcp__every_thing");
    assert!(every["description"]
        .as_str()
        .unwrap()
        .starts_with("# Everything Server"));
    let every_names = function_names(every);
    assert!(every_names.contains(&"get_tiny_image"), "{every_names:?}");
    assert!(every_names.windows(2).all(|w| w[0] < w[1]), "sorted");
    for tool in every["tools"].as_array().unwrap() {
        assert!(tool["parameters"].get("$schema").is_none());
        assert_eq!(tool["strict"], false);
    }

    // Resolution: namespace + name, the flat name, resource tools, and misses.
    assert_eq!(
        tools.resolve(Some("mcp__every_thing"), "get_tiny_image"),
        Some(McpCallTarget::Tool {
            server: "every-thing".into(),
            tool: "get-tiny-image".into()
        })
    );
    assert_eq!(
        tools.resolve(None, "mcp__fs__read_text_file"),
        Some(McpCallTarget::Tool {
            server: "fs".into(),
            tool: "read_text_file".into()
        })
    );
    assert_eq!(
        tools.resolve(None, "read_mcp_resource"),
        Some(McpCallTarget::Resource(ResourceTool::ReadResource))
    );
    assert_eq!(
        tools.resolve(Some("mcp__fs"), "write_file"),
        None,
        "disabled"
    );
    assert_eq!(tools.resolve(None, "mcp__fs__write_file"), None, "disabled");
    assert_eq!(tools.resolve(Some("mcp__nope"), "x"), None);
    assert_eq!(tools.resolve(None, "shell"), None);
}

#[tokio::test]
async fn no_servers_no_tools() {
    let h = harness(config(vec![]));
    let tools = h.manager.wait_ready(&CancellationToken::new()).await;
    assert!(tools.is_empty());
    assert!(tools.model_tools().is_empty());
    assert_eq!(tools.resolve(None, "list_mcp_resources"), None);
}
