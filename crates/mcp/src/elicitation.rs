//! Elicitations a server sends on its own (`elicitation/create`), forwarded to whoever can ask
//! the user: the glue implements [`ElicitationHandler`] and turns each one into an
//! `mcpServer/elicitation/request` with the thread and turn it belongs to.
//!
//! Under approval policy `never` nobody may be asked, so the elicitation is declined here
//! without reaching the handler, as the official runtime does.

use codex_protocol::v2::{
    ApprovalMode, AskForApproval, McpServerElicitationAction, McpServerElicitationRequest,
    McpServerElicitationRequestResponse,
};
use std::future::Future;
use std::pin::Pin;

/// A boxed `Send` future, the return type of the handler traits.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// One elicitation from a server.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerElicitation {
    /// The configured name of the server asking.
    pub server_name: String,
    /// The form (with the server's `requestedSchema`) or URL request, as the server sent it.
    pub request: McpServerElicitationRequest,
}

/// Implemented by the glue to reach the client.
pub trait ElicitationHandler: Send + Sync + 'static {
    /// The approval policy in force now; under `never` elicitations are declined unasked.
    fn approval_policy(&self) -> AskForApproval;

    /// Asks the client. `None` (no client, no answer, an answer that does not parse) cancels
    /// the elicitation.
    fn elicit(
        &self,
        elicitation: ServerElicitation,
    ) -> BoxFuture<Option<McpServerElicitationRequestResponse>>;
}

/// A handler for callers without a client (status lists, tests): declines everything.
pub struct DeclineElicitations;

impl ElicitationHandler for DeclineElicitations {
    fn approval_policy(&self) -> AskForApproval {
        AskForApproval::Mode(ApprovalMode::Never)
    }

    fn elicit(
        &self,
        _: ServerElicitation,
    ) -> BoxFuture<Option<McpServerElicitationRequestResponse>> {
        Box::pin(async { Some(declined()) })
    }
}

/// Whether a policy lets anyone be asked about MCP elicitations.
pub fn may_ask(policy: &AskForApproval) -> bool {
    match policy {
        AskForApproval::Mode(ApprovalMode::Never) => false,
        AskForApproval::Mode(_) => true,
        AskForApproval::Granular { granular } => granular.mcp_elicitations,
    }
}

/// The answer given for the user when nobody may be asked.
pub fn declined() -> McpServerElicitationRequestResponse {
    McpServerElicitationRequestResponse {
        action: McpServerElicitationAction::Decline,
        content: None,
        meta: None,
    }
}

/// Forwards one elicitation, honouring the policy.
pub(crate) async fn forward(
    handler: &dyn ElicitationHandler,
    elicitation: ServerElicitation,
) -> McpServerElicitationRequestResponse {
    if !may_ask(&handler.approval_policy()) {
        return declined();
    }
    handler
        .elicit(elicitation)
        .await
        .unwrap_or(McpServerElicitationRequestResponse {
            action: McpServerElicitationAction::Cancel,
            content: None,
            meta: None,
        })
}
