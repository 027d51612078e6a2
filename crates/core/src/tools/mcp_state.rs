//! The MCP servers of one thread: its [`McpManager`] (kept in [`ThreadMcp`], a per-thread
//! resource, so the servers die with the thread), the thread's own `config` overlay (for a
//! reload), where server-initiated elicitations go ([`ElicitationRoute`]), and
//! [`before_model_request`], which waits for servers still starting (bounded by their grace)
//! and puts the catalogue of the ready ones on the thread's registry.
//!
//! No reference back to the thread is kept here: the manager and the route hold a sink and
//! the thread's status cell only, so dropping the thread drops everything.

use super::context::ToolCtx;
use super::mcp::McpTool;
use super::registry::ToolRegistry;
use crate::sink::Sink;
use crate::status::StatusCell;
use codex_mcp::elicitation::BoxFuture;
use codex_mcp::{ElicitationHandler, McpManager, ServerElicitation};
use codex_protocol::methods as m;
use codex_protocol::v2::{
    AskForApproval, McpServerElicitationRequestParams, McpServerElicitationRequestResponse,
    ServerRequestResolvedNotification, ThreadStatus,
};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A thread's MCP attachment; empty when the thread has no MCP server configured.
#[derive(Default)]
pub struct ThreadMcp {
    state: Mutex<Option<Attached>>,
}

struct Attached {
    manager: McpManager,
    /// The thread's own `config` map (as TOML), laid over the configuration on reload.
    overlay: toml::Table,
    route: Arc<ElicitationRoute>,
    /// Names registered on the thread's registry from the last catalogue, and its specs.
    registered: Vec<String>,
    advertised: Vec<Value>,
}

impl ThreadMcp {
    /// Attaches `manager` (replacing and stopping any previous one).
    pub fn attach(&self, manager: McpManager, overlay: toml::Table, route: Arc<ElicitationRoute>) {
        let previous = self.lock().replace(Attached {
            manager,
            overlay,
            route,
            registered: Vec::new(),
            advertised: Vec::new(),
        });
        if let Some(previous) = previous {
            previous.manager.shutdown();
        }
    }

    pub fn manager(&self) -> Option<McpManager> {
        self.lock().as_ref().map(|a| a.manager.clone())
    }

    pub fn overlay(&self) -> Option<toml::Table> {
        self.lock().as_ref().map(|a| a.overlay.clone())
    }

    pub fn set_overlay(&self, overlay: toml::Table) {
        if let Some(attached) = self.lock().as_mut() {
            attached.overlay = overlay;
        }
    }

    /// The approval policy server elicitations are judged by until the next model request
    /// (after `thread/resume` changed it).
    pub fn set_policy(&self, policy: AskForApproval) {
        if let Some(attached) = self.lock().as_ref() {
            attached.route.set_policy(policy);
        }
    }

    /// Stops the servers now (a shutdown; dropping the thread does the same).
    pub fn shutdown(&self) {
        if let Some(attached) = self.lock().take() {
            attached.manager.shutdown();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Attached>> {
        // Every update is one assignment, so a poisoned lock still holds consistent data.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts `catalogue` on `registry` in place of the previous one, unless it advertises the
    /// same specs (the registry's cached specs then stay valid).
    fn publish(
        &self,
        registry: &ToolRegistry,
        manager: &McpManager,
        catalogue: codex_mcp::McpTools,
    ) {
        let specs = catalogue.model_tools();
        let mut state = self.lock();
        let Some(attached) = state.as_mut() else {
            return;
        };
        if attached.advertised == specs {
            return;
        }
        for name in attached.registered.drain(..) {
            registry.remove(&name);
        }
        for tool in McpTool::all(manager, catalogue) {
            attached.registered.push(tool.name().to_string());
            registry.register(tool);
        }
        attached.advertised = specs;
    }
}

/// Before each model request: waits for the thread's servers still starting (up to
/// `mcp_optional_startup_grace_ms`, or each server's `startup_timeout_sec` when that is 0) and
/// registers the tools of the ready ones. Server elicitations from now on name this turn.
///
/// # Cancellation
/// Returns early, with what is ready, when the turn is interrupted.
pub async fn before_model_request(ctx: &ToolCtx, registry: &ToolRegistry) {
    let mcp = ctx.tools.resource::<ThreadMcp>();
    let Some((manager, route)) = mcp
        .lock()
        .as_ref()
        .map(|a| (a.manager.clone(), Arc::clone(&a.route)))
    else {
        return;
    };
    route.enter_turn(ctx);
    let catalogue = manager.wait_ready(&ctx.cancel).await;
    mcp.publish(registry, &manager, catalogue);
}

/// Where a server's own elicitations go: the thread, the connection and turn of the last
/// model request (while that turn runs), and the approval policy in force.
pub struct ElicitationRoute {
    thread_id: String,
    status: Arc<StatusCell>,
    current: Mutex<RouteState>,
}

#[derive(Clone)]
struct RouteState {
    sink: Sink,
    policy: AskForApproval,
    turn: Option<(String, CancellationToken)>,
}

impl ElicitationRoute {
    pub fn new(
        thread_id: &str,
        sink: Sink,
        status: Arc<StatusCell>,
        policy: AskForApproval,
    ) -> ElicitationRoute {
        ElicitationRoute {
            thread_id: thread_id.to_string(),
            status,
            current: Mutex::new(RouteState {
                sink,
                policy,
                turn: None,
            }),
        }
    }

    fn enter_turn(&self, ctx: &ToolCtx) {
        if let Ok(mut current) = self.current.lock() {
            *current = RouteState {
                sink: ctx.sink.clone(),
                policy: ctx.settings.approval_policy.clone(),
                turn: Some((ctx.turn_id.clone(), ctx.cancel.clone())),
            };
        }
    }

    fn set_policy(&self, policy: AskForApproval) {
        if let Ok(mut current) = self.current.lock() {
            current.policy = policy;
        }
    }

    fn state(&self) -> Option<RouteState> {
        self.current.lock().ok().map(|s| s.clone())
    }
}

impl ElicitationHandler for ElicitationRoute {
    fn approval_policy(&self) -> AskForApproval {
        self.state()
            .map(|s| s.policy)
            .unwrap_or(AskForApproval::Mode(
                codex_protocol::v2::ApprovalMode::Never,
            ))
    }

    fn elicit(
        &self,
        elicitation: ServerElicitation,
    ) -> BoxFuture<Option<McpServerElicitationRequestResponse>> {
        let Some(state) = self.state() else {
            return Box::pin(async { None });
        };
        // The turn of the last model request, if it is still the running one.
        let running = matches!(self.status.get(), ThreadStatus::Active { .. });
        let turn = state
            .turn
            .filter(|(_, cancel)| running && !cancel.is_cancelled());
        let params = McpServerElicitationRequestParams {
            thread_id: self.thread_id.clone(),
            turn_id: turn.as_ref().map(|(id, _)| id.clone()),
            server_name: elicitation.server_name,
            request: elicitation.request,
        };
        let cancel = turn.map(|(_, cancel)| cancel).unwrap_or_default();
        let sink = state.sink;
        let thread_id = self.thread_id.clone();
        Box::pin(async move {
            let handle = match sink.request::<m::McpServerElicitation>(&params).await {
                Ok(handle) => handle,
                Err(e) => {
                    tracing::warn!("cannot forward an MCP elicitation: {e}");
                    return None;
                }
            };
            let id = handle.id().clone();
            let reply = tokio::select! {
                reply = handle.raw() => reply.ok(),
                _ = cancel.cancelled() => None,
            };
            sink.notify::<m::ServerRequestResolved>(&ServerRequestResolvedNotification {
                thread_id,
                request_id: id,
            })
            .await;
            reply.and_then(|value| serde_json::from_value(value).ok())
        })
    }
}
