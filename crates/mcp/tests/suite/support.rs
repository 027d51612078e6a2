//! Shared test helpers: where the third-party servers are, configs for them, recording
//! handlers, and bounded waits.
//!
//! The servers are installed by `scripts/install-mcp-test-servers`; a missing one fails the
//! test with that hint instead of skipping it.

use codex_mcp::elicitation::BoxFuture;
use codex_mcp::{
    ApprovalAsker, ElicitationHandler, McpConfig, McpManager, McpServerConfig, McpStartupUpdate,
    ServerElicitation,
};
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, McpServerElicitationRequestParams,
    McpServerElicitationRequestResponse, McpServerStartupState,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Generous bound for anything that should happen quickly (the machine is shared).
pub const BOUND: Duration = Duration::from_secs(60);

fn servers_dir() -> PathBuf {
    std::env::var_os("CODEX_MCP_TEST_SERVERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/mcp-servers")
        })
}

fn installed(relative: &str) -> String {
    let path = servers_dir().join(relative);
    assert!(
        path.exists(),
        "{} is missing: run scripts/install-mcp-test-servers",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// `@modelcontextprotocol/server-everything` (stdio).
pub fn everything_bin() -> String {
    installed("npm/node_modules/.bin/mcp-server-everything")
}

/// `@modelcontextprotocol/server-filesystem`, limited to `root`.
pub fn filesystem(root: &std::path::Path) -> McpServerConfig {
    let mut config = McpServerConfig::stdio(
        installed("npm/node_modules/.bin/mcp-server-filesystem"),
        vec![root.to_string_lossy().into_owned()],
    );
    config.startup_timeout = BOUND;
    config
}

/// `@modelcontextprotocol/server-everything` over stdio.
pub fn everything() -> McpServerConfig {
    let mut config = McpServerConfig::stdio(everything_bin(), vec![]);
    config.startup_timeout = BOUND;
    config
}

/// `mcp-server-time` from PyPI.
pub fn time() -> McpServerConfig {
    let mut config = McpServerConfig::stdio(installed("py/bin/mcp-server-time"), vec![]);
    config.startup_timeout = BOUND;
    config
}

/// `server-everything` started through `sh`, which first writes the server's pid (the same
/// process, thanks to `exec`) to `pid_file`.
pub fn everything_with_pid_file(pid_file: &std::path::Path) -> McpServerConfig {
    let script = format!(
        "echo $$ > '{}'; exec '{}'",
        pid_file.display(),
        everything_bin()
    );
    let mut config = McpServerConfig::stdio("sh", vec!["-c".into(), script]);
    config.startup_timeout = BOUND;
    config
}

pub fn config(servers: Vec<(&str, McpServerConfig)>) -> McpConfig {
    McpConfig {
        servers: servers
            .into_iter()
            .map(|(name, server)| (name.to_string(), server))
            .collect::<BTreeMap<_, _>>(),
        optional_startup_grace: Duration::ZERO,
    }
}

/// A manager with a recording elicitation handler.
pub struct Harness {
    pub manager: McpManager,
    pub updates: mpsc::Receiver<McpStartupUpdate>,
    pub elicitations: Arc<RecordingElicitations>,
}

pub fn harness(config: McpConfig) -> Harness {
    harness_with(
        config,
        RecordingElicitations::answering(None, ApprovalMode::OnRequest),
    )
}

pub fn harness_with(config: McpConfig, elicitations: Arc<RecordingElicitations>) -> Harness {
    let (tx, updates) = mpsc::channel(64);
    let handler: Arc<dyn ElicitationHandler> = elicitations.clone();
    Harness {
        manager: McpManager::new(config, tx, handler),
        updates,
        elicitations,
    }
}

impl Harness {
    /// The next start-up update, bounded.
    pub async fn next_update(&mut self) -> McpStartupUpdate {
        tokio::time::timeout(BOUND, self.updates.recv())
            .await
            .expect("no start-up update in time")
            .expect("update channel closed")
    }

    /// Updates until `server` reaches a final state; returns them all (of that server).
    pub async fn updates_until_settled(&mut self, server: &str) -> Vec<McpStartupUpdate> {
        let mut seen = Vec::new();
        loop {
            let update = self.next_update().await;
            if update.server != server {
                continue;
            }
            let done = update.status != McpServerStartupState::Starting;
            seen.push(update);
            if done {
                return seen;
            }
        }
    }
}

/// Records server elicitations and answers them with a fixed answer.
pub struct RecordingElicitations {
    pub seen: Mutex<Vec<ServerElicitation>>,
    answer: Option<McpServerElicitationRequestResponse>,
    policy: ApprovalMode,
}

impl RecordingElicitations {
    pub fn answering(
        answer: Option<McpServerElicitationRequestResponse>,
        policy: ApprovalMode,
    ) -> Arc<Self> {
        Arc::new(RecordingElicitations {
            seen: Mutex::new(Vec::new()),
            answer,
            policy,
        })
    }
}

impl ElicitationHandler for RecordingElicitations {
    fn approval_policy(&self) -> AskForApproval {
        AskForApproval::Mode(self.policy)
    }

    fn elicit(
        &self,
        elicitation: ServerElicitation,
    ) -> BoxFuture<Option<McpServerElicitationRequestResponse>> {
        self.seen.lock().unwrap().push(elicitation);
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

/// Records approval requests and answers each with the next scripted answer.
pub struct ScriptedAsker {
    pub asked: Mutex<Vec<McpServerElicitationRequestParams>>,
    answers: Mutex<Vec<Option<McpServerElicitationRequestResponse>>>,
}

impl ScriptedAsker {
    pub fn new(answers: Vec<serde_json::Value>) -> Self {
        ScriptedAsker {
            asked: Mutex::new(Vec::new()),
            answers: Mutex::new(
                answers
                    .into_iter()
                    .rev()
                    .map(|a| serde_json::from_value(a).ok())
                    .collect(),
            ),
        }
    }

    pub fn asked(&self) -> Vec<McpServerElicitationRequestParams> {
        self.asked.lock().unwrap().clone()
    }
}

impl ApprovalAsker for ScriptedAsker {
    async fn ask(
        &self,
        params: McpServerElicitationRequestParams,
    ) -> Option<McpServerElicitationRequestResponse> {
        self.asked.lock().unwrap().push(params);
        self.answers.lock().unwrap().pop().flatten()
    }
}

/// Waits (bounded) until process `pid` has exited, via a pidfd, without polling.
pub async fn wait_for_exit(pid: i32) -> bool {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        // Already gone (reaped): nothing left to wait for.
        return std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
    }
    // SAFETY: fd is a fresh pidfd we own.
    let owned = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
    // SAFETY: the pidfd is owned by the AsyncFd for its whole registration.
    let Ok(async_fd) = (unsafe { tokio::io::unix::AsyncFd::register(owned) }) else {
        panic!("cannot register pidfd");
    };
    tokio::time::timeout(BOUND, async_fd.readable())
        .await
        .is_ok()
}

/// Reads a pid file the wrapper script wrote.
pub fn read_pid(path: &std::path::Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
