//! MCP methods: `mcpServerStatus/list` (no thread needed), `mcpServer/tool/call`,
//! `mcpServer/resource/read`, `config/mcpServer/reload`.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods::{self as m, NoParams};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(status_list);
    table.on(tool_call);
    table.on(resource_read);
    table.on(reload);
}

async fn status_list(cx: Cx, p: ListMcpServerStatusParams, r: Responder<m::McpServerStatusList>) {
    r.answer(cx.runtime.mcp_status_list(p).await).await;
}

async fn tool_call(cx: Cx, p: McpServerToolCallParams, r: Responder<m::McpServerToolCall>) {
    r.answer(cx.runtime.mcp_tool_call(p).await).await;
}

async fn resource_read(cx: Cx, p: McpResourceReadParams, r: Responder<m::McpServerResourceRead>) {
    r.answer(cx.runtime.mcp_resource_read(p).await).await;
}

async fn reload(cx: Cx, _p: NoParams, r: Responder<m::ConfigMcpServerReload>) {
    r.answer(cx.runtime.reload_mcp_servers().await).await;
}
