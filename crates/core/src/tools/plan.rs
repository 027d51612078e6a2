//! `update_plan`: the model's step list, surfaced as `turn/plan/updated`.

use super::call::{ToolCall, ToolError, ToolOutput};
use super::context::{CallScope, ToolCtx};
use super::tool::{Family, Tool, ToolFuture};
use codex_protocol::methods as m;
use codex_protocol::v2::{TurnPlanStep, TurnPlanUpdatedNotification};
use serde_json::{json, Value};

/// The `update_plan` tool.
pub struct UpdatePlan;

impl Tool for UpdatePlan {
    fn name(&self) -> &str {
        "update_plan"
    }

    fn spec(&self, _family: Family) -> Option<Value> {
        Some(spec())
    }

    fn call<'a>(&'a self, call: &'a ToolCall, scope: &'a mut CallScope) -> ToolFuture<'a> {
        Box::pin(async move { run(&scope.ctx, call).await.map(ToolOutput::Text) })
    }
}

fn spec() -> Value {
    json!({
        "type": "function",
        "name": "update_plan",
        "description": "Record or update the plan for the current task: a short list of steps, each pending, in_progress or completed, with at most one in progress.",
        "strict": false,
        "parameters": {
            "type": "object",
            "properties": {
                "explanation": {"type": "string"},
                "plan": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]}
                        },
                        "required": ["step", "status"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["plan"],
            "additionalProperties": false
        }
    })
}

async fn run(ctx: &ToolCtx, call: &ToolCall) -> Result<String, ToolError> {
    let args = call.arguments()?;
    let Some(steps) = args["plan"].as_array() else {
        return Err(ToolError::Arguments(
            "update_plan needs a `plan` array".to_string(),
        ));
    };
    let mut plan = Vec::new();
    for s in steps {
        let status = match s["status"].as_str() {
            Some("pending") => codex_protocol::v2::TurnPlanStepStatus::Pending,
            Some("in_progress") | Some("inProgress") => {
                codex_protocol::v2::TurnPlanStepStatus::InProgress
            }
            Some("completed") => codex_protocol::v2::TurnPlanStepStatus::Completed,
            other => {
                return Err(ToolError::Arguments(format!(
                    "invalid plan step status: {other:?}"
                )))
            }
        };
        plan.push(TurnPlanStep {
            step: s["step"].as_str().unwrap_or_default().to_string(),
            status,
        });
    }
    ctx.sink
        .notify::<m::TurnPlanUpdated>(&TurnPlanUpdatedNotification {
            thread_id: ctx.thread_id.clone(),
            turn_id: ctx.turn_id.clone(),
            explanation: args["explanation"].as_str().map(str::to_string),
            plan,
        })
        .await;
    Ok("Plan updated".to_string())
}
