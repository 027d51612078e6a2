//! Running the tool calls of one model response: consecutive calls of parallel tools run
//! concurrently, any other call runs alone, and the results come back in call order.

use super::call::{ToolCall, ToolError, ToolOutput};
use super::context::{Completed, ToolCtx};
use super::registry::ToolSet;
use serde_json::Value;
use std::sync::Arc;

/// One call's result: the output item for the model and the items the call completed.
pub struct CallResult {
    pub output: Value,
    pub completed: Vec<Completed>,
}

async fn run_one(ctx: ToolCtx, set: Arc<ToolSet>, call: ToolCall) -> CallResult {
    let mut scope = ctx.scope();
    let result = if ctx.cancel.is_cancelled() {
        Err(ToolError::Interrupted)
    } else {
        match set.resolve(&call) {
            Some(tool) => tool.call(&call, &mut scope).await,
            None => Err(ToolError::Unknown(call.name.clone())),
        }
    };
    let output = match result {
        Ok(output) => output,
        Err(e) => ToolOutput::Text(e.to_string()),
    };
    CallResult {
        output: call.output_item(output),
        completed: scope.completed,
    }
}

/// Runs `calls` with the tools of `set`; results are in call order.
pub async fn run_calls(ctx: &ToolCtx, set: &Arc<ToolSet>, calls: Vec<ToolCall>) -> Vec<CallResult> {
    let parallel = |call: &ToolCall| set.resolve(call).is_some_and(|t| t.parallel());
    let mut results = Vec::with_capacity(calls.len());
    let mut i = 0;
    while i < calls.len() {
        let mut end = i + 1;
        if parallel(&calls[i]) {
            while end < calls.len() && parallel(&calls[end]) {
                end += 1;
            }
        }
        let batch = &calls[i..end];
        if batch.len() == 1 {
            results.push(run_one(ctx.clone(), set.clone(), batch[0].clone()).await);
        } else {
            let handles: Vec<_> = batch
                .iter()
                .map(|c| tokio::spawn(run_one(ctx.clone(), set.clone(), c.clone())))
                .collect();
            for (handle, call) in handles.into_iter().zip(batch) {
                results.push(handle.await.unwrap_or_else(|e| {
                    tracing::error!("tool task failed: {e}");
                    CallResult {
                        output: call.output_item(ToolOutput::Text(format!("tool failed: {e}"))),
                        completed: Vec::new(),
                    }
                }));
            }
        }
        i = end;
    }
    results
}
