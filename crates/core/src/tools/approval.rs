//! Approvals: whether a command needs the user (by approval policy, sandbox and the command
//! itself), and asking the client through a server request whose answer races the turn's
//! cancellation.
//!
//! `approvalsReviewer: "auto_review"` (and `guardian_subagent`) name a server-side reviewer
//! model that this runtime does not have; those threads are asked exactly like `user` ones, so
//! a decision is never made without someone answering.

use super::command;
use super::context::ToolCtx;
use crate::sink::ServerRequestHandle;
use codex_jsonrpc::RequestError;
use codex_protocol::methods::{self as m, ServerRequest};
use codex_protocol::v2::{
    ApprovalMode, AskForApproval, SandboxPolicy, ServerRequestResolvedNotification,
};
use serde_json::Value;

/// The approval policy reduced to the four behaviours (granular behaves as on-request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Untrusted,
    OnFailure,
    OnRequest,
    Never,
}

impl Mode {
    pub fn of(policy: &AskForApproval) -> Mode {
        match policy {
            AskForApproval::Mode(ApprovalMode::Untrusted) => Mode::Untrusted,
            AskForApproval::Mode(ApprovalMode::OnFailure) => Mode::OnFailure,
            AskForApproval::Mode(ApprovalMode::OnRequest) | AskForApproval::Granular { .. } => {
                Mode::OnRequest
            }
            AskForApproval::Mode(ApprovalMode::Never) => Mode::Never,
        }
    }

    /// The spelling used in the official rejection message.
    fn debug_name(self) -> &'static str {
        match self {
            Mode::Untrusted => "UnlessTrusted",
            Mode::OnFailure => "OnFailure",
            Mode::OnRequest => "OnRequest",
            Mode::Never => "Never",
        }
    }

    /// Whether a sandbox denial may be retried without the sandbox (after asking).
    pub fn retries_unsandboxed(self) -> bool {
        matches!(self, Mode::OnFailure | Mode::Untrusted)
    }
}

/// What must happen before a command runs.
#[derive(Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Run now; `bypass_sandbox` for escalations the user already granted.
    Skip {
        bypass_sandbox: bool,
    },
    NeedsApproval {
        reason: Option<String>,
    },
    /// Do not run; the text goes to the model.
    Forbidden(String),
}

pub struct CommandFacts<'a> {
    pub script: &'a str,
    pub escalated: bool,
    pub justification: Option<String>,
    pub approved_for_session: bool,
}

pub fn exec_requirement(mode: Mode, sandbox: &SandboxPolicy, f: CommandFacts<'_>) -> Requirement {
    if f.escalated && mode != Mode::OnRequest {
        let name = mode.debug_name();
        return Requirement::Forbidden(format!(
            "approval policy is {name}; reject command — you cannot ask for escalated permissions if the approval policy is {name}"
        ));
    }
    if f.approved_for_session {
        return Requirement::Skip {
            bypass_sandbox: f.escalated,
        };
    }
    match mode {
        Mode::Never | Mode::OnFailure => Requirement::Skip {
            bypass_sandbox: false,
        },
        Mode::Untrusted if command::is_known_safe(f.script) => Requirement::Skip {
            bypass_sandbox: false,
        },
        Mode::Untrusted => Requirement::NeedsApproval {
            reason: f.justification,
        },
        Mode::OnRequest if f.escalated => Requirement::NeedsApproval {
            reason: f.justification,
        },
        Mode::OnRequest
            if command::is_dangerous(f.script)
                && !matches!(sandbox, SandboxPolicy::DangerFullAccess) =>
        {
            Requirement::NeedsApproval {
                reason: f.justification,
            }
        }
        Mode::OnRequest => Requirement::Skip {
            bypass_sandbox: false,
        },
    }
}

/// The client's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Accept,
    AcceptForSession,
    Decline,
    /// Decline and interrupt the turn.
    Cancel,
    /// The turn was interrupted while waiting.
    Interrupted,
}

/// Reads `{decision}`; an error reply, a closed connection or anything unknown declines.
pub fn parse_decision(reply: Result<Value, RequestError>) -> Decision {
    let Ok(value) = reply else {
        return Decision::Decline;
    };
    match &value["decision"] {
        Value::String(s) => match s.as_str() {
            "accept" => Decision::Accept,
            "acceptForSession" => Decision::AcceptForSession,
            "cancel" => Decision::Cancel,
            _ => Decision::Decline,
        },
        // acceptWithExecpolicyAmendment / applyNetworkPolicyAmendment: approve this run.
        Value::Object(_) => Decision::Accept,
        _ => Decision::Decline,
    }
}

/// Sends approval request `R` and awaits the answer or the turn's cancellation, then
/// announces `serverRequest/resolved` either way. A request no client can take declines.
pub async fn ask<R: ServerRequest>(ctx: &ToolCtx, params: &R::Params) -> Decision {
    let handle: ServerRequestHandle<R> = match ctx.sink.request::<R>(params).await {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!("cannot ask for approval: {e}");
            return Decision::Decline;
        }
    };
    let id = handle.id().clone();
    let decision = tokio::select! {
        reply = handle.raw() => parse_decision(reply),
        _ = ctx.cancel.cancelled() => Decision::Interrupted,
    };
    ctx.sink
        .notify::<m::ServerRequestResolved>(&ServerRequestResolvedNotification {
            thread_id: ctx.thread_id.clone(),
            request_id: id,
        })
        .await;
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn facts(script: &str, escalated: bool) -> CommandFacts<'_> {
        CommandFacts {
            script,
            escalated,
            justification: Some("why".into()),
            approved_for_session: false,
        }
    }

    #[test]
    fn requirements_by_policy() {
        let ro = SandboxPolicy::ReadOnly {
            network_access: false,
        };
        assert_eq!(
            exec_requirement(Mode::Untrusted, &ro, facts("ls", false)),
            Requirement::Skip {
                bypass_sandbox: false
            }
        );
        assert_eq!(
            exec_requirement(Mode::Untrusted, &ro, facts("touch x", false)),
            Requirement::NeedsApproval {
                reason: Some("why".into())
            }
        );
        assert_eq!(
            exec_requirement(Mode::OnRequest, &ro, facts("touch x", false)),
            Requirement::Skip {
                bypass_sandbox: false
            }
        );
        assert!(matches!(
            exec_requirement(Mode::OnRequest, &ro, facts("touch x", true)),
            Requirement::NeedsApproval { .. }
        ));
        let Requirement::Forbidden(msg) =
            exec_requirement(Mode::Never, &ro, facts("touch x", true))
        else {
            panic!("expected forbidden");
        };
        assert!(msg.starts_with("approval policy is Never; reject command"));
        let mut f = facts("touch x", true);
        f.approved_for_session = true;
        assert_eq!(
            exec_requirement(Mode::OnRequest, &ro, f),
            Requirement::Skip {
                bypass_sandbox: true
            }
        );
    }

    #[test]
    fn decisions_parse_conservatively() {
        let d = |v: Value| parse_decision(Ok(v));
        assert_eq!(d(json!({"decision": "accept"})), Decision::Accept);
        assert_eq!(
            d(json!({"decision": "acceptForSession"})),
            Decision::AcceptForSession
        );
        assert_eq!(d(json!({"decision": "cancel"})), Decision::Cancel);
        assert_eq!(d(json!({"decision": "decline"})), Decision::Decline);
        assert_eq!(
            d(
                json!({"decision": {"acceptWithExecpolicyAmendment": {"execpolicy_amendment": ["ls"]}}})
            ),
            Decision::Accept
        );
        assert_eq!(d(json!({})), Decision::Decline);
        assert_eq!(d(json!({"decision": "bogus"})), Decision::Decline);
        assert_eq!(parse_decision(Err(RequestError::Closed)), Decision::Decline);
    }
}
