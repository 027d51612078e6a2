//! What the model sees of the MCP servers, and how its calls find their way back.
//!
//! One `namespace` tool per ready server, named `mcp__<server>`, described by the server's
//! instructions (or `Tools in the mcp__<server> namespace.`), holding one `function` tool per
//! enabled tool: sanitised name, the server's description, the model form of its input schema
//! ([`crate::schema`]) and `"strict": false`, sorted by name. When any server is enabled the
//! three resource tools come too. A call names a namespace and a tool, or the flat
//! `mcp__<server>__<tool>`; the resource tools are called without a namespace.

use crate::config::McpServerConfig;
use crate::names::{namespace_for, sanitize, split_flat};
use crate::schema::model_input_schema;
use codex_protocol::v2::McpTool;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// `list_mcp_resources`.
pub const LIST_RESOURCES: &str = "list_mcp_resources";
/// `list_mcp_resource_templates`.
pub const LIST_RESOURCE_TEMPLATES: &str = "list_mcp_resource_templates";
/// `read_mcp_resource`.
pub const READ_RESOURCE: &str = "read_mcp_resource";

/// One of the three resource tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceTool {
    ListResources,
    ListResourceTemplates,
    ReadResource,
}

impl ResourceTool {
    /// The tool's name.
    pub fn name(self) -> &'static str {
        match self {
            ResourceTool::ListResources => LIST_RESOURCES,
            ResourceTool::ListResourceTemplates => LIST_RESOURCE_TEMPLATES,
            ResourceTool::ReadResource => READ_RESOURCE,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            LIST_RESOURCES => Some(ResourceTool::ListResources),
            LIST_RESOURCE_TEMPLATES => Some(ResourceTool::ListResourceTemplates),
            READ_RESOURCE => Some(ResourceTool::ReadResource),
            _ => None,
        }
    }
}

/// What a model call resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum McpCallTarget {
    /// A server's tool, by the configured server name and the server's own tool name.
    Tool {
        server: String,
        tool: String,
    },
    Resource(ResourceTool),
}

/// The MCP tools of one model request: a snapshot of the servers ready when it was taken.
#[derive(Clone, Debug, Default)]
pub struct McpTools {
    servers: Vec<ServerTools>,
    resource_tools: bool,
}

/// A started server as the catalogue needs it.
pub(crate) struct ReadyServer<'a> {
    pub name: &'a str,
    pub config: &'a McpServerConfig,
    pub instructions: Option<String>,
    pub tools: Arc<Vec<McpTool>>,
}

#[derive(Clone, Debug)]
struct ServerTools {
    server: String,
    namespace: String,
    description: String,
    /// Model-facing name -> the server's tool.
    tools: BTreeMap<String, McpTool>,
}

impl McpTools {
    /// Builds the catalogue from the servers that are ready; `resource_tools` is whether any
    /// configured server is enabled (the resource tools are offered then, even while none is
    /// ready yet).
    pub(crate) fn build(resource_tools: bool, ready: Vec<ReadyServer<'_>>) -> Self {
        let mut servers: Vec<ServerTools> = ready
            .into_iter()
            .map(|server| {
                let namespace = namespace_for(server.name);
                let description = server
                    .instructions
                    .filter(|i| !i.trim().is_empty())
                    .unwrap_or_else(|| format!("Tools in the {namespace} namespace."));
                let mut raw: Vec<McpTool> = server
                    .tools
                    .iter()
                    .filter(|t| server.config.tool_enabled(&t.name))
                    .cloned()
                    .collect();
                raw.sort_by(|a, b| a.name.cmp(&b.name));
                let mut tools = BTreeMap::new();
                for tool in raw {
                    // Two raw names can sanitise alike; the first in sorted order wins.
                    tools.entry(sanitize(&tool.name)).or_insert(tool);
                }
                ServerTools {
                    server: server.name.to_string(),
                    namespace,
                    description,
                    tools,
                }
            })
            .collect();
        servers.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        // Two server names can also sanitise alike; keep the first.
        servers.dedup_by(|b, a| a.namespace == b.namespace);
        McpTools {
            servers,
            resource_tools,
        }
    }

    /// Whether there is nothing to advertise.
    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && !self.resource_tools
    }

    /// The tool specs for the model request: the resource tools (when any server is enabled),
    /// then one namespace per ready server, sorted by namespace.
    pub fn model_tools(&self) -> Vec<Value> {
        let mut specs = Vec::new();
        if self.resource_tools {
            specs.extend(resource_tool_specs());
        }
        for server in &self.servers {
            let functions: Vec<Value> = server
                .tools
                .iter()
                .map(|(name, tool)| {
                    json!({
                        "type": "function",
                        "name": name,
                        "description": tool.description.clone().unwrap_or_default(),
                        "strict": false,
                        "parameters": model_input_schema(&tool.input_schema),
                    })
                })
                .collect();
            specs.push(json!({
                "type": "namespace",
                "name": server.namespace,
                "description": server.description,
                "tools": functions,
            }));
        }
        specs
    }

    /// Resolves a model call: `namespace` + `name`, a flat `mcp__<server>__<tool>`, or a
    /// resource tool. `None` when it is not an MCP tool of this snapshot.
    pub fn resolve(&self, namespace: Option<&str>, name: &str) -> Option<McpCallTarget> {
        let namespace = namespace.filter(|ns| !ns.is_empty());
        let (namespace, name) = match namespace {
            Some(ns) => (ns, name),
            None => {
                if self.resource_tools {
                    if let Some(tool) = ResourceTool::from_name(name) {
                        return Some(McpCallTarget::Resource(tool));
                    }
                }
                split_flat(name, self.servers.iter().map(|s| s.namespace.as_str()))?
            }
        };
        let server = self.servers.iter().find(|s| s.namespace == namespace)?;
        let tool = server.tools.get(name)?;
        Some(McpCallTarget::Tool {
            server: server.server.clone(),
            tool: tool.name.clone(),
        })
    }

    /// The server's tool behind a target (for its annotations, title and description).
    pub fn tool(&self, server: &str, tool: &str) -> Option<&McpTool> {
        self.servers
            .iter()
            .find(|s| s.server == server)?
            .tools
            .values()
            .find(|t| t.name == tool)
    }
}

/// The three resource tools; parameters as the official runtime declares them, descriptions
/// our own.
pub fn resource_tool_specs() -> Vec<Value> {
    let list = |name: &str, what: &str| {
        json!({
            "type": "function",
            "name": name,
            "description": format!(
                "Lists the {what} that the configured MCP servers offer as context (files, \
                 schemas, records...). Each entry names its server. Pass `server` to list one \
                 server and page through it with `cursor`."
            ),
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "server": {
                        "type": "string",
                        "description": format!("Name of one MCP server; omit to list the {what} of every server."),
                    },
                    "cursor": {
                        "type": "string",
                        "description": format!("The nextCursor of a previous {name} call for the same server; omit for the first page."),
                    },
                },
                "additionalProperties": false,
            },
        })
    };
    vec![
        list(LIST_RESOURCES, "resources"),
        list(LIST_RESOURCE_TEMPLATES, "resource templates"),
        json!({
            "type": "function",
            "name": READ_RESOURCE,
            "description": "Reads one resource of an MCP server by its URI.",
            "strict": false,
            "parameters": {
                "type": "object",
                "properties": {
                    "server": {
                        "type": "string",
                        "description": "The MCP server's name, as list_mcp_resources reports it.",
                    },
                    "uri": {
                        "type": "string",
                        "description": "The resource URI, as list_mcp_resources reports it.",
                    },
                },
                "required": ["server", "uri"],
                "additionalProperties": false,
            },
        }),
    ]
}
