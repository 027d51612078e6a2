//! `codex exec PROMPT`: one turn, headless. The same runtime as the app-server, driven
//! in-process: notifications are read from the client channel and printed; approval requests
//! are declined (there is nobody to ask), so use a sandbox mode that needs none.

use codex_core::client::ClientHandle;
use codex_core::config::Config;
use codex_core::Runtime;
use codex_protocol::jsonrpc::{JsonRpcErrorBody, Message};
use codex_protocol::methods::{self as m, Notification, ServerRequest};
use codex_protocol::v2::{ThreadStartParams, TurnStartParams, UserInput};
use std::io::Write;

/// Runs the prompt; returns whether the turn completed.
pub async fn run(config: Config, prompt: String, json: bool) -> Result<bool, crate::ServerError> {
    let (client, mut lines) = ClientHandle::new();
    let runtime = Runtime::new(config, client.clone())?;
    runtime.set_client_info("codex_exec", codex_protocol::SERVER_VERSION);
    let started = runtime.start_thread(ThreadStartParams::default()).await?;
    let thread_id = started.thread.id.clone();
    let (_, launch) = runtime
        .start_turn(TurnStartParams {
            thread_id: thread_id.clone(),
            input: vec![UserInput::Text {
                text: prompt,
                text_elements: vec![],
            }],
            ..Default::default()
        })
        .await?;
    if let Some(launch) = launch {
        launch.launch();
    }
    let mut ok = false;
    let mut stdout = std::io::stdout();
    while let Some(line) = lines.recv().await {
        if json {
            let _ = writeln!(stdout, "{line}");
        }
        let Ok(msg) = Message::decode(&line) else {
            continue;
        };
        match msg {
            Message::Request { id, method, .. } => {
                eprintln!(
                    "codex exec: declining {method}: exec runs without an interactive approver"
                );
                let decline = if method == m::CommandExecutionRequestApproval::NAME
                    || method == m::FileChangeRequestApproval::NAME
                {
                    Ok(serde_json::json!({"decision": "decline"}))
                } else {
                    Err(JsonRpcErrorBody::method_not_found(&method))
                };
                client.resolve(&id, decline);
            }
            Message::Notification {
                method,
                params: Some(p),
            } => {
                if !json && method == m::AgentMessageDelta::NAME {
                    let _ = write!(stdout, "{}", p["delta"].as_str().unwrap_or_default());
                    let _ = stdout.flush();
                }
                if method == m::TurnCompleted::NAME {
                    let status = p["turn"]["status"].as_str().unwrap_or_default();
                    ok = status == "completed";
                    if !json {
                        let _ = writeln!(stdout);
                        if let Some(msg) = p["turn"]["error"]["message"].as_str() {
                            eprintln!("codex exec: turn {status}: {msg}");
                        }
                    }
                    break;
                }
            }
            _ => {}
        }
    }
    runtime.shutdown().await;
    Ok(ok)
}
