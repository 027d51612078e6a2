//! Client-defined tools (`thread/start.dynamicTools`, experimental) at the runtime level: who
//! may send them, their validation, their place in the rollout (`session_meta.dynamic_tools`,
//! as upstream writes it) so they survive a restart, `thread/resume` and `thread/fork`, and
//! their registration on a thread. The tools themselves are `tools::dynamic`.

use crate::error::CoreError;
use crate::identity::Caller;
use crate::thread::LoadedThread;
use crate::tools::dynamic::{self, ClientToolSpecs};
use codex_protocol::v2::DynamicToolSpec;
use serde_json::Value;
use std::time::Duration;

/// Refuses `dynamicTools` from a client that did not opt in to the experimental API (even an
/// empty list, as upstream), and lists that break the official rules.
///
/// # Errors
/// [`CoreError::InvalidRequest`] (-32600) with upstream's message.
pub(super) fn check(caller: &Caller, specs: Option<&[DynamicToolSpec]>) -> Result<(), CoreError> {
    let Some(specs) = specs else {
        return Ok(());
    };
    if !caller.client.experimental_api {
        return Err(CoreError::InvalidRequest(
            "thread/start.dynamicTools requires experimentalApi capability".to_string(),
        ));
    }
    dynamic::validate(specs).map_err(CoreError::InvalidRequest)
}

/// The rollout form of a thread's tools (`None` when it has none).
pub(super) fn to_rollout(specs: Option<&[DynamicToolSpec]>) -> Option<Value> {
    specs
        .filter(|s| !s.is_empty())
        .and_then(|s| serde_json::to_value(s).ok())
}

/// The tools recorded in a rollout; a list this runtime cannot use is skipped with a warning
/// (the thread still loads, without them).
pub(super) fn from_rollout(thread_id: &str, value: &Value) -> Vec<DynamicToolSpec> {
    let specs = serde_json::from_value::<Vec<DynamicToolSpec>>(value.clone())
        .map_err(|e| e.to_string())
        .and_then(|specs| dynamic::validate(&specs).map(|()| specs));
    specs.unwrap_or_else(|e| {
        tracing::warn!(thread_id, "recorded client tools skipped: {e}");
        Vec::new()
    })
}

/// Offers `specs` on `thread` (calls wait at most `timeout` for the client) and remembers
/// them for a fork.
pub(super) fn register(thread: &LoadedThread, specs: Vec<DynamicToolSpec>, timeout: Duration) {
    if specs.is_empty() {
        return;
    }
    for tool in dynamic::tools_for(&specs, timeout) {
        thread.registry.register(tool);
    }
    thread.tools.resource::<ClientToolSpecs>().set(specs);
}

/// The tools `thread` was started with, to carry over to a fork.
pub(super) fn of_thread(thread: &LoadedThread) -> Option<Vec<DynamicToolSpec>> {
    thread.tools.resource::<ClientToolSpecs>().get()
}
