//! Integration test modules and shared helpers.

mod lifecycle;
mod output;
mod sandbox;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use codex_exec::{run, ExecError, ExecOutput, ExecRequest, SandboxPolicy};
use tokio_util::sync::CancellationToken;

/// Upper bound for any single command in these tests.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(20);

pub fn base_env() -> HashMap<String, String> {
    let mut env = HashMap::new();
    env.insert(
        "PATH".to_string(),
        "/usr/local/bin:/usr/bin:/bin".to_string(),
    );
    env.insert(
        "HOME".to_string(),
        std::env::var("HOME").unwrap_or_else(|_| "/root".to_string()),
    );
    env.insert("LANG".to_string(), "C.UTF-8".to_string());
    env
}

pub fn request(argv: &[&str], cwd: &Path, sandbox: SandboxPolicy) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: cwd.to_path_buf(),
        env: base_env(),
        timeout: Some(TEST_TIMEOUT),
        output_cap_bytes: 1024 * 1024,
        sandbox,
    }
}

/// Run `sh -c script` and return the result.
pub async fn sh(script: &str, cwd: &Path, sandbox: SandboxPolicy) -> Result<ExecOutput, ExecError> {
    run(
        request(&["sh", "-c", script], cwd, sandbox),
        None,
        CancellationToken::new(),
    )
    .await
}

/// A scratch directory outside /tmp (which workspace-write grants), under
/// cargo's per-target temp dir.
pub fn scratch_dir() -> tempfile::TempDir {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&base).unwrap();
    tempfile::tempdir_in(base).unwrap()
}

pub fn workspace_write() -> SandboxPolicy {
    SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![],
        network_access: false,
        exclude_tmpdir_env_var: true,
        exclude_slash_tmp: false,
    }
}
