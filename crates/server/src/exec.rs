//! `codex exec PROMPT`: one turn, headless. An in-process app-server over an in-memory pipe,
//! driven as a client: initialize, start a thread, start the turn, print what arrives.
//! Approval requests are declined (there is nobody to ask), so use a sandbox mode that needs
//! none.

use codex_core::config::Config;
use codex_core::RuntimeOptions;
use codex_jsonrpc::{memory_pair, Connection, Frame, Incoming, Limits};
use codex_protocol::jsonrpc::{JsonRpcErrorBody, Message};
use codex_protocol::methods::{self as m, Notification, ServerRequest};
use codex_protocol::v2::{
    ClientInfo, InitializeParams, ThreadStartParams, TurnStartParams, UserInput,
};
use std::io::Write;
use std::time::Duration;

/// Runs the prompt; returns whether the turn completed.
pub async fn run(config: Config, prompt: String, json: bool) -> Result<bool, crate::ServerError> {
    let (server_end, client_end) = memory_pair();
    let options = RuntimeOptions::from_process()?;
    let server = tokio::spawn(crate::serve_stream(config, options, server_end));
    let (peer, mut incoming, closing) =
        Connection::stream(client_end, Limits::default()).into_parts();
    let init = InitializeParams {
        client_info: ClientInfo {
            name: "codex_exec".into(),
            title: None,
            version: codex_protocol::SERVER_VERSION.into(),
        },
        capabilities: None,
    };
    let driving = async {
        peer.request::<m::Initialize>(&init).await?;
        let started = peer
            .request::<m::ThreadStart>(&ThreadStartParams::default())
            .await?;
        peer.request::<m::TurnStart>(&TurnStartParams {
            thread_id: started.thread.id,
            input: vec![UserInput::Text {
                text: prompt,
                text_elements: vec![],
            }],
            ..Default::default()
        })
        .await?;
        Ok::<(), crate::ServerError>(())
    };
    let mut ok = false;
    let mut stdout = std::io::stdout();
    let printing = async {
        while let Some(message) = incoming.recv().await {
            match message {
                Incoming::Request { id, method, params } => {
                    if json {
                        let line = Frame::message(&Message::Request {
                            id: id.clone(),
                            method: method.clone(),
                            params,
                        });
                        let _ = writeln!(stdout, "{line}");
                    }
                    eprintln!(
                        "codex exec: declining {method}: exec runs without an interactive approver"
                    );
                    let _ = if method == m::CommandExecutionRequestApproval::NAME
                        || method == m::FileChangeRequestApproval::NAME
                    {
                        peer.respond(id, &serde_json::json!({"decision": "decline"}))
                            .await
                    } else {
                        peer.respond_error(Some(id), JsonRpcErrorBody::method_not_found(&method))
                            .await
                    };
                }
                Incoming::Notification { method, params } => {
                    let p = params.unwrap_or_default();
                    if json {
                        let line = Frame::message(&Message::Notification {
                            method: method.clone(),
                            params: Some(p.clone()),
                        });
                        let _ = writeln!(stdout, "{line}");
                    }
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
                        return;
                    }
                }
            }
        }
    };
    let (driven, ()) = tokio::join!(driving, printing);
    // Closing our end is the server's end of input: it stops and flushes.
    closing.close(Duration::from_secs(10)).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    driven?;
    Ok(ok)
}
