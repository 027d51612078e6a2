//! `initialize`: the handshake. Runs on the connection's reader, so requests after it in the
//! stream see the connection initialized.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_core::ClientIdentity;
use codex_protocol::jsonrpc::JsonRpcErrorBody;
use codex_protocol::methods::{self as m};
use codex_protocol::v2::{InitializeParams, InitializeResponse, ServerInfo};

pub fn register(table: &mut HandlerTable) {
    table.on_inline(initialize);
}

async fn initialize(cx: Cx, p: InitializeParams, r: Responder<m::Initialize>) {
    if cx.client.initialized() {
        return r
            .error(JsonRpcErrorBody::invalid_request("Already initialized"))
            .await;
    }
    let name = &p.client_info.name;
    if name.is_empty() || !name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        let message =
            format!("Invalid clientInfo.name: '{name}'. Must be a valid HTTP header value.");
        return r.error(JsonRpcErrorBody::invalid_request(message)).await;
    }
    let experimental_api = p.capabilities.as_ref().is_some_and(|c| c.experimental_api);
    let identity =
        ClientIdentity::new(name, &p.client_info.version).with_experimental_api(experimental_api);
    let user_agent = identity.user_agent.clone();
    let opted_out = p
        .capabilities
        .map(|caps| caps.opt_out_notification_methods.into_iter().collect())
        .unwrap_or_default();
    if !cx.client.initialize(identity, opted_out) {
        return r
            .error(JsonRpcErrorBody::invalid_request("Already initialized"))
            .await;
    }
    let response = InitializeResponse {
        user_agent,
        codex_home: cx.runtime.codex_home().to_path_buf(),
        platform_family: std::env::consts::FAMILY.to_string(),
        platform_os: std::env::consts::OS.to_string(),
        server_info: ServerInfo {
            name: codex_protocol::SERVER_NAME.to_string(),
            version: codex_protocol::SERVER_VERSION.to_string(),
        },
    };
    if r.answer(Ok(response)).await {
        // For this client only: the warnings concern what it will ask of this server.
        for warning in cx.runtime.startup_warnings() {
            let _ = cx.client.peer.notify::<m::ConfigWarning>(&warning).await;
        }
    }
}
