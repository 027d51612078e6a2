//! The SDK's overhead per turn, measured as `bench/sdk_overhead.py` measures the Python SDKs:
//! wall time of `thread.run()` minus the server's own time for the turn
//! (`TurnResult::duration_ms`), against an instant mock model, async and blocking.
//!
//! ```sh
//! cargo build -p codex-cli && cargo run -p codex-sdk --example overhead -- 30
//! ```

use codex_mock_model::{assistant_message, MockServer};
use codex_sdk::{blocking, Codex, CodexConfig, ThreadOptions};
use std::error::Error;
use std::time::Instant;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn config(url: &str, home: &std::path::Path) -> CodexConfig {
    CodexConfig::default()
        .cwd(home)
        .env("CODEX_HOME", home)
        .env("RUST_LOG", "warn")
        .config_override(r#"model="mock-model""#)
        .config_override(r#"model_provider="mock""#)
        .config_override(format!(
            r#"model_providers.mock={{name="mock", base_url="{url}", wire_api="responses", request_max_retries=0, stream_max_retries=0}}"#
        ))
}

fn main() -> Result<(), Box<dyn Error>> {
    let turns: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(30);
    let mock_runtime = tokio::runtime::Runtime::new()?;
    let mock = mock_runtime.block_on(MockServer::start())?;
    mock.set_default(Some(assistant_message("r", "hi")));
    let home = tempfile::tempdir()?;

    let (async_overhead, async_wall) = mock_runtime.block_on(async {
        let codex = Codex::launch(config(&mock.url(), home.path())).await?;
        let thread = codex.thread_start(ThreadOptions::default()).await?;
        thread.run("warm up").await?;
        let (mut overhead, mut wall) = (Vec::new(), Vec::new());
        for _ in 0..turns {
            let started = Instant::now();
            let result = thread.run("hi").await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            wall.push(ms);
            overhead.push(ms - result.duration_ms.unwrap_or(0) as f64);
        }
        codex.close().await;
        Ok::<_, codex_sdk::Error>((overhead, wall))
    })?;

    let codex = blocking::Codex::launch(config(&mock.url(), home.path()))?;
    let thread = codex.thread_start(ThreadOptions::default())?;
    thread.run("warm up")?;
    let (mut blocking_overhead, mut blocking_wall) = (Vec::new(), Vec::new());
    for _ in 0..turns {
        let started = Instant::now();
        let result = thread.run("hi")?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        blocking_wall.push(ms);
        blocking_overhead.push(ms - result.duration_ms.unwrap_or(0) as f64);
    }
    drop(thread);
    drop(codex);

    println!("{turns} turns each, medians (ms)");
    println!(
        "async:    run() wall {:.2}, overhead (wall - server time) {:.2}",
        median(async_wall),
        median(async_overhead)
    );
    println!(
        "blocking: run() wall {:.2}, overhead (wall - server time) {:.2}",
        median(blocking_wall),
        median(blocking_overhead)
    );
    Ok(())
}
