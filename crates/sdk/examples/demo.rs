//! One full coding turn through the Rust SDK, printed as it streams: the agent reads
//! `greeting.py`, patches it and runs it.
//!
//! Against the scripted model server (the `codex-mock-model` library, replaying
//! `examples/demo_scenario.json`) by default, or the real OpenAI API when `OPENAI_API_KEY` is
//! set. The `codex` binary is found as usual (`CODEX_BIN`, else this checkout's build):
//!
//! ```sh
//! cargo build -p codex-cli && cargo run -p codex-sdk --example demo
//! ```

use codex_mock_model::{MockServer, ReplySpec};
use codex_sdk::protocol::methods::typed::ServerNotification;
use codex_sdk::protocol::v2::{SandboxMode, ThreadItem};
use codex_sdk::{ApprovalMode, Codex, CodexConfig, Notification, ThreadOptions, TurnCollector};
use std::error::Error;
use std::path::Path;

const GREETING: &str =
    "def greet(name):\n    return \"Hello, \" + name\n\n\nprint(greet(\"demo\"))\n";
const PROMPT: &str =
    "Make greet() in greeting.py friendlier (use an f-string), then run the file to check.";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let workspace = tempfile::tempdir()?;
    let codex_home = tempfile::tempdir()?;
    std::fs::write(workspace.path().join("greeting.py"), GREETING)?;

    let mut config = CodexConfig::default()
        .cwd(workspace.path())
        .env("CODEX_HOME", codex_home.path())
        .env("RUST_LOG", "warn");
    // Kept alive for the whole turn.
    let mut _mock = None;
    if std::env::var_os("OPENAI_API_KEY").is_some() {
        println!("Using the real OpenAI API (OPENAI_API_KEY is set).");
    } else {
        let mock = MockServer::start().await?;
        let scenario =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo_scenario.json");
        let specs: Vec<ReplySpec> = serde_json::from_str(&std::fs::read_to_string(&scenario)?)?;
        for spec in specs {
            mock.enqueue_spec(spec);
        }
        println!("Scripted model server at {}", mock.url());
        config = config
            .config_override(r#"model="mock-model""#)
            .config_override(r#"model_provider="scripted""#)
            .config_override(format!(
                r#"model_providers.scripted={{name="scripted", base_url="{}", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#,
                mock.url()
            ));
        _mock = Some(mock);
    }
    println!("Workspace: {}\n", workspace.path().display());

    let codex = Codex::launch(config).await?;
    let metadata = codex.metadata();
    println!(
        "Connected to {} {}",
        metadata.server_name, metadata.server_version
    );
    let thread = codex
        .thread_start(
            ThreadOptions::default()
                .sandbox(SandboxMode::WorkspaceWrite)
                .approval_mode(ApprovalMode::DenyAll),
        )
        .await?;
    let turn = thread.turn(PROMPT).await?;
    let mut collector = TurnCollector::new(turn.id());
    let mut stream = turn.stream();
    while let Some(notification) = stream.next().await {
        let notification = notification?;
        show(&notification);
        collector.feed(notification);
    }
    let result = collector.result()?;
    codex.close().await;

    println!("\nTurnResult");
    println!("  id:             {}", result.id);
    println!("  status:         {:?}", result.status);
    println!("  duration_ms:    {:?}", result.duration_ms);
    println!("  items:          {}", result.items.len());
    println!(
        "  final_response: {}",
        result.final_response.as_deref().unwrap_or("")
    );
    if let Some(usage) = &result.usage {
        println!("  usage (total):  {} tokens", usage.total.total_tokens);
    }
    let patched = std::fs::read_to_string(workspace.path().join("greeting.py"))?;
    println!("\ngreeting.py now reads:\n{}", indent(&patched));
    Ok(())
}

/// Prints one notification in a readable form.
fn show(notification: &Notification) {
    let Notification::Known(known) = notification else {
        return;
    };
    match known {
        ServerNotification::TurnStarted(n) => println!("[turn] {} started", n.turn.id),
        ServerNotification::AgentMessageDelta(d) => {
            print!("{}", d.delta);
        }
        ServerNotification::ItemStarted(n) => match &n.item {
            ThreadItem::CommandExecution { command, .. } => {
                println!("\n[started]   command `{command}`");
            }
            ThreadItem::FileChange { changes, .. } => {
                for change in changes {
                    println!("\n[started]   file change {}", change.path.display());
                }
            }
            ThreadItem::AgentMessage { .. } => print!("\n[agent] "),
            _ => {}
        },
        ServerNotification::ItemCompleted(n) => match &n.item {
            ThreadItem::CommandExecution {
                status,
                exit_code,
                aggregated_output,
                ..
            } => {
                println!("[completed] {status:?} exit={exit_code:?}");
                println!("{}", indent(aggregated_output.as_deref().unwrap_or("")));
            }
            ThreadItem::FileChange { status, .. } => println!("[completed] file change {status:?}"),
            ThreadItem::AgentMessage { .. } => println!(),
            _ => {}
        },
        ServerNotification::TurnDiffUpdated(d) => println!("[diff]\n{}", indent(&d.diff)),
        ServerNotification::ThreadTokenUsageUpdated(u) => println!(
            "[usage] in={} out={}",
            u.token_usage.last.input_tokens, u.token_usage.last.output_tokens
        ),
        ServerNotification::TurnCompleted(n) => {
            println!("[turn] {:?} in {:?} ms", n.turn.status, n.turn.duration_ms);
        }
        ServerNotification::Error(e) => println!("[error] {}", e.error.message),
        _ => {}
    }
}

fn indent(text: &str) -> String {
    text.trim_end()
        .lines()
        .map(|line| {
            if line.is_empty() {
                String::new()
            } else {
                format!("    {line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}
