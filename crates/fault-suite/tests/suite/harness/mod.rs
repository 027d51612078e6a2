//! What every fault case needs: the binaries under test, a mock model process, app-server
//! processes spoken to over JSON-RPC, temporary homes (tmpfs when a case needs a full or
//! read-only disk) and process probes. Every wait is bounded by [`WAIT`].

mod heap;
mod home;
mod mock;
mod procs;
mod server;

use std::path::PathBuf;
use std::time::Duration;

pub use heap::held_by;
pub use home::{Home, Tmpfs};
pub use mock::Mock;
pub use procs::{exits_within, rss_kib};
pub use server::{rollout_path, text_input, Server};

/// Bound for any single wait (debug binaries on a shared 2-core machine).
pub const WAIT: Duration = Duration::from_secs(30);

/// The `codex` binary under test: `CODEX_BIN`, as `scripts/test` sets it.
pub fn codex_bin() -> PathBuf {
    let bin = std::env::var_os("CODEX_BIN")
        .map(PathBuf::from)
        .expect("set CODEX_BIN to the built codex binary (scripts/fault does)");
    assert!(bin.is_file(), "CODEX_BIN {} is not a file", bin.display());
    bin
}

/// The mock model binary: `CODEX_MOCK_MODEL_BIN`, else `codex-mock-model` beside `codex`.
pub fn mock_bin() -> PathBuf {
    let bin = std::env::var_os("CODEX_MOCK_MODEL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| codex_bin().with_file_name("codex-mock-model"));
    assert!(
        bin.is_file(),
        "no mock model binary at {} (build codex-mock-model or set CODEX_MOCK_MODEL_BIN)",
        bin.display()
    );
    bin
}

/// The random seed of this run: `FAULT_SEED` to replay one, else fresh (and printed).
pub fn seed() -> u64 {
    let seed = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("fault suite: FAULT_SEED={seed}");
    seed
}
