//! The connection manager: every configured server of one thread, started in the background
//! and in parallel on first need, watched through start-up, restarted after a crash, and
//! replaced when the configuration changes.
//!
//! Each server has a slot whose state goes `Idle -> Starting -> Ready | Failed` (or stays
//! `Disabled`). Start-up runs in its own task under `startup_timeout_sec` and reports
//! `starting`, then `ready` or `failed` (with the reason) on the update channel the glue
//! turns into `mcpServer/startupStatus/updated`. A server that fails leaves the others usable.
//! A connection found closed (the server exited or crashed mid-call) sends its slot back to
//! `Idle`, so the next use starts it again. Dropping the last handle cancels every start-up
//! and ends every connection, which kills the stdio servers' process groups.

use crate::config::{McpConfig, McpServerConfig, McpTransport};
use crate::connection::Connection;
use crate::elicitation::ElicitationHandler;
use crate::error::{seconds, McpError};
use crate::handler::McpClientHandler;
use crate::tools::{McpTools, ReadyServer};
use codex_protocol::v2::{McpServerStartupState, McpTool};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Extra time a waiter gives a start-up beyond its own timeout, so the start-up task reports
/// its timeout before the waiter gives up on it.
const WAIT_MARGIN: Duration = Duration::from_secs(1);

/// One start-up status change, for `mcpServer/startupStatus/updated`.
#[derive(Clone, Debug, PartialEq)]
pub struct McpStartupUpdate {
    pub server: String,
    pub status: McpServerStartupState,
    /// Why the server failed to start (only with `Failed`).
    pub error: Option<String>,
}

/// The MCP servers of one thread. Cheap to clone; the last clone dropped stops everything.
#[derive(Clone)]
pub struct McpManager {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    state: Mutex<State>,
    updates: mpsc::Sender<McpStartupUpdate>,
    elicitation: Arc<dyn ElicitationHandler>,
    shutdown: CancellationToken,
    /// Tools the user approved "for this session": (server, tool).
    pub(crate) session_approvals: Mutex<HashSet<(String, String)>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct State {
    config: McpConfig,
    slots: BTreeMap<String, Arc<Slot>>,
    /// Whether anyone has needed the servers yet; reload starts replaced servers only then.
    started: bool,
}

pub(crate) struct Slot {
    pub(crate) name: String,
    pub(crate) config: McpServerConfig,
    cancel: CancellationToken,
    state: watch::Sender<SlotState>,
}

#[derive(Clone)]
pub(crate) enum SlotState {
    Idle,
    Disabled,
    Starting,
    Ready(Arc<Live>),
    /// The reason, e.g. `No such file or directory (os error 2)`.
    Failed(String),
}

/// A started server: its connection and its tool catalogue.
pub(crate) struct Live {
    pub(crate) conn: Connection,
    tools: Mutex<Arc<Vec<McpTool>>>,
}

impl Live {
    pub(crate) fn tools(&self) -> Arc<Vec<McpTool>> {
        self.tools
            .lock()
            .map(|t| Arc::clone(&t))
            .unwrap_or_default()
    }

    /// Re-lists the tools if the server announced a change since the last listing.
    async fn refresh_tools(&self) {
        if !self.conn.take_tools_changed() {
            return;
        }
        match self.conn.list_tools().await {
            Ok(tools) => {
                if let Ok(mut current) = self.tools.lock() {
                    *current = Arc::new(tools);
                }
            }
            Err(e) => tracing::warn!(error = %e, "re-listing MCP tools failed"),
        }
    }
}

impl McpManager {
    /// A manager for `config`. Nothing starts until [`Self::start`] or a call needs it.
    /// Start-up updates go to `updates` (bounded; the glue drains it); server elicitations to
    /// `elicitation`.
    pub fn new(
        config: McpConfig,
        updates: mpsc::Sender<McpStartupUpdate>,
        elicitation: Arc<dyn ElicitationHandler>,
    ) -> Self {
        let shutdown = CancellationToken::new();
        let slots = make_slots(&config, &shutdown);
        McpManager {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    config,
                    slots,
                    started: false,
                }),
                updates,
                elicitation,
                shutdown,
                session_approvals: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> McpConfig {
        self.lock_state().config.clone()
    }

    /// Starts every enabled server that is not running, in the background and in parallel.
    /// Returns at once; must be called inside a tokio runtime.
    pub fn start(&self) {
        let slots = {
            let mut state = self.lock_state();
            state.started = true;
            state.slots.values().cloned().collect::<Vec<_>>()
        };
        for slot in slots {
            self.start_slot(&slot);
        }
    }

    /// Starts the servers if needed and waits for those still starting: up to
    /// `mcp_optional_startup_grace_ms` in all, or, when that is zero, up to each server's own
    /// `startup_timeout_sec`. Returns the tools of the servers ready by then.
    ///
    /// # Cancellation
    /// Returns early (with what is ready) when `cancel` fires.
    pub async fn wait_ready(&self, cancel: &CancellationToken) -> McpTools {
        self.start();
        let (slots, grace) = {
            let state = self.lock_state();
            let slots: Vec<_> = state.slots.values().cloned().collect();
            (slots, state.config.optional_startup_grace)
        };
        let grace_deadline = (!grace.is_zero()).then(|| Instant::now() + grace);
        let waits = slots.iter().map(|slot| {
            let deadline = grace_deadline
                .unwrap_or_else(|| Instant::now() + slot.config.startup_timeout + WAIT_MARGIN);
            wait_settled(slot, deadline, cancel)
        });
        futures_util::future::join_all(waits).await;
        for slot in &slots {
            // Not `if let` on the borrow itself: its guard would live across the await, which
            // makes this future unusable from a spawned task.
            if let SlotState::Ready(live) = slot.state() {
                live.refresh_tools().await;
            }
        }
        tools_of(&slots)
    }

    /// The tools of the servers ready right now, without starting or waiting for anything.
    pub fn current_tools(&self) -> McpTools {
        let slots: Vec<_> = self.lock_state().slots.values().cloned().collect();
        tools_of(&slots)
    }

    /// Applies a new configuration: removed servers stop, changed ones (and ones that failed
    /// to start) are replaced, and started again if servers were already in use; unchanged
    /// ones keep running.
    pub fn reload(&self, config: McpConfig) {
        let to_start = {
            let mut state = self.lock_state();
            let mut slots = BTreeMap::new();
            let mut to_start = Vec::new();
            for (name, server) in &config.servers {
                match state.slots.remove(name) {
                    // Unchanged and not failed: keep it running. A failed server is retried.
                    Some(old)
                        if old.config == *server
                            && !matches!(old.state(), SlotState::Failed(_)) =>
                    {
                        slots.insert(name.clone(), old);
                    }
                    previous => {
                        if let Some(old) = previous {
                            old.cancel.cancel();
                        }
                        let slot = new_slot(name, server, &self.inner.shutdown);
                        if state.started {
                            to_start.push(Arc::clone(&slot));
                        }
                        slots.insert(name.clone(), slot);
                    }
                }
            }
            for removed in state.slots.values() {
                removed.cancel.cancel();
            }
            state.slots = slots;
            state.config = config;
            to_start
        };
        for slot in to_start {
            self.start_slot(&slot);
        }
    }

    /// Stops every server now (also what dropping the last handle does).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
        let mut state = self.lock_state();
        for slot in state.slots.values() {
            slot.cancel.cancel();
            slot.state.send_replace(SlotState::Idle);
        }
        state.slots.clear();
    }

    /// The server's live connection, starting (or restarting after a crash) and waiting for
    /// it as needed, bounded by its `startup_timeout_sec`.
    ///
    /// # Errors
    /// Unknown, disabled, failed to start, or cancelled.
    pub(crate) async fn live(
        &self,
        server: &str,
        cancel: &CancellationToken,
    ) -> Result<(Arc<Slot>, Arc<Live>), McpError> {
        let slot = self.slot(server)?;
        self.start_slot(&slot);
        let deadline = Instant::now() + slot.config.startup_timeout + WAIT_MARGIN;
        wait_settled(&slot, deadline, cancel).await;
        if cancel.is_cancelled() {
            return Err(McpError::Cancelled);
        }
        let state = slot.state.borrow().clone();
        match state {
            SlotState::Ready(live) => Ok((slot, live)),
            SlotState::Disabled => Err(McpError::Disabled(server.to_string())),
            SlotState::Failed(reason) => Err(McpError::Unavailable {
                server: server.to_string(),
                message: format!("MCP startup failed: {reason}"),
            }),
            SlotState::Idle | SlotState::Starting => Err(McpError::Unavailable {
                server: server.to_string(),
                message: "still starting".to_string(),
            }),
        }
    }

    /// The server's description of one tool, if the server is running now.
    pub(crate) fn running_tool(&self, server: &str, tool: &str) -> Option<McpTool> {
        let SlotState::Ready(live) = self.slot(server).ok()?.state() else {
            return None;
        };
        live.tools().iter().find(|t| t.name == tool).cloned()
    }

    pub(crate) fn slot(&self, server: &str) -> Result<Arc<Slot>, McpError> {
        self.lock_state()
            .slots
            .get(server)
            .cloned()
            .ok_or_else(|| McpError::UnknownServer(server.to_string()))
    }

    pub(crate) fn slots(&self) -> Vec<Arc<Slot>> {
        self.lock_state().slots.values().cloned().collect()
    }

    /// Marks a server whose connection broke, so its next use starts it again.
    pub(crate) fn connection_lost(&self, slot: &Slot, live: &Arc<Live>) {
        slot.state.send_if_modified(|state| match state {
            SlotState::Ready(current) if Arc::ptr_eq(current, live) => {
                *state = SlotState::Idle;
                true
            }
            _ => false,
        });
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock leaves consistent data (every update is a single
        // assignment), so a poisoned lock is still usable.
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts one slot if it is idle (or holds a connection that has closed).
    fn start_slot(&self, slot: &Arc<Slot>) {
        let begin = slot.state.send_if_modified(|state| match state {
            SlotState::Idle => {
                *state = SlotState::Starting;
                true
            }
            SlotState::Ready(live) if live.conn.is_closed() => {
                *state = SlotState::Starting;
                true
            }
            _ => false,
        });
        if !begin {
            return;
        }
        let slot = Arc::clone(slot);
        let updates = self.inner.updates.clone();
        let elicitation = Arc::clone(&self.inner.elicitation);
        tokio::spawn(async move {
            let cancel = slot.cancel.clone();
            report(
                &updates,
                &cancel,
                &slot.name,
                McpServerStartupState::Starting,
                None,
            )
            .await;
            let handler = McpClientHandler {
                server_name: slot.name.clone(),
                elicitation,
                tools_changed: Arc::new(AtomicBool::new(false)),
            };
            let timeout = slot.config.startup_timeout;
            let outcome = tokio::select! {
                _ = cancel.cancelled() => return,
                outcome = tokio::time::timeout(timeout, open(&slot, handler)) => outcome,
            };
            match outcome {
                Ok(Ok(live)) => {
                    slot.state.send_replace(SlotState::Ready(Arc::new(live)));
                    report(
                        &updates,
                        &cancel,
                        &slot.name,
                        McpServerStartupState::Ready,
                        None,
                    )
                    .await;
                }
                Ok(Err(reason)) => {
                    let message = format!(
                        "MCP client for `{}` failed to start: MCP startup failed: {reason}",
                        slot.name
                    );
                    slot.state.send_replace(SlotState::Failed(reason));
                    report(
                        &updates,
                        &cancel,
                        &slot.name,
                        McpServerStartupState::Failed,
                        Some(message),
                    )
                    .await;
                }
                Err(_) => {
                    let secs = seconds(timeout);
                    let reason = format!("timed out handshaking with MCP server after {secs}s");
                    // The official wording, which tells the user what to change.
                    let message = format!(
                        "MCP client for `{name}` timed out after {secs} seconds. Add or adjust \
                         `startup_timeout_sec` in your config.toml:\n[mcp_servers.{name}]\n\
                         startup_timeout_sec = XX",
                        name = slot.name
                    );
                    slot.state.send_replace(SlotState::Failed(reason));
                    report(
                        &updates,
                        &cancel,
                        &slot.name,
                        McpServerStartupState::Failed,
                        Some(message),
                    )
                    .await;
                }
            }
        });
    }
}

async fn open(slot: &Slot, handler: McpClientHandler) -> Result<Live, String> {
    let conn = Connection::open(&slot.name, &slot.config.transport, handler).await?;
    let tools = conn
        .list_tools()
        .await
        .map_err(|e| format!("tools/list failed: {e}"))?;
    Ok(Live {
        conn,
        tools: Mutex::new(Arc::new(tools)),
    })
}

async fn report(
    updates: &mpsc::Sender<McpStartupUpdate>,
    cancel: &CancellationToken,
    server: &str,
    status: McpServerStartupState,
    error: Option<String>,
) {
    let update = McpStartupUpdate {
        server: server.to_string(),
        status,
        error,
    };
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = updates.send(update) => {}
    }
}

/// Waits until the slot is not starting, the deadline passes, or either token fires.
async fn wait_settled(slot: &Slot, deadline: Instant, cancel: &CancellationToken) {
    let mut rx = slot.state.subscribe();
    let settled = rx.wait_for(|state| !matches!(state, SlotState::Starting | SlotState::Idle));
    tokio::select! {
        _ = settled => {}
        _ = tokio::time::sleep_until(deadline) => {}
        _ = cancel.cancelled() => {}
        _ = slot.cancel.cancelled() => {}
    }
}

fn make_slots(config: &McpConfig, shutdown: &CancellationToken) -> BTreeMap<String, Arc<Slot>> {
    config
        .servers
        .iter()
        .map(|(name, server)| (name.clone(), new_slot(name, server, shutdown)))
        .collect()
}

fn new_slot(name: &str, config: &McpServerConfig, shutdown: &CancellationToken) -> Arc<Slot> {
    let initial = if config.enabled {
        SlotState::Idle
    } else {
        SlotState::Disabled
    };
    Arc::new(Slot {
        name: name.to_string(),
        config: config.clone(),
        cancel: shutdown.child_token(),
        state: watch::Sender::new(initial),
    })
}

impl Slot {
    pub(crate) fn state(&self) -> SlotState {
        self.state.borrow().clone()
    }

    /// `scheme://host:port` of an HTTP server.
    pub(crate) fn http_origin(&self) -> Option<String> {
        match &self.config.transport {
            McpTransport::StreamableHttp { url, .. } => crate::http::origin(url),
            McpTransport::Stdio { .. } => None,
        }
    }
}

/// The tool catalogue of the servers that are ready now.
fn tools_of(slots: &[Arc<Slot>]) -> McpTools {
    let states: Vec<(&Arc<Slot>, SlotState)> = slots.iter().map(|s| (s, s.state())).collect();
    let ready = states
        .iter()
        .filter_map(|(slot, state)| match state {
            SlotState::Ready(live) => Some(ReadyServer {
                name: &slot.name,
                config: &slot.config,
                instructions: live.conn.identity.instructions.clone(),
                tools: live.tools(),
            }),
            _ => None,
        })
        .collect();
    McpTools::build(slots.iter().any(|s| s.config.enabled), ready)
}
