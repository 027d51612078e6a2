//! One handler per method: parse params (-32602 naming the field), call the core, answer, then
//! perform what must follow the answer (a `*/started` notification, launching the turn).

use codex_core::{CoreError, Runtime};
use codex_protocol::jsonrpc::{JsonRpcErrorBody, RequestId};
use codex_protocol::methods::{self as m, Method};
use codex_protocol::v2::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub fn parse_params<T: DeserializeOwned>(params: Option<Value>) -> Result<T, JsonRpcErrorBody> {
    let value = params.unwrap_or_else(|| Value::Object(Default::default()));
    match serde_json::from_value::<T>(value.clone()) {
        Ok(v) => Ok(v),
        Err(e) => {
            let message = match culprit_field::<T>(&value, &e.to_string()) {
                Some(field) => format!("invalid params: `{field}`: {e}"),
                None => format!("invalid params: {e}"),
            };
            Err(JsonRpcErrorBody::invalid_params(message))
        }
    }
}

/// serde reports a wrongly typed value without its field name ("invalid type: string, expected
/// a boolean"). The culprit is the top-level key whose removal changes the error: serde stops
/// at the first bad value and checks missing fields only after all present ones.
fn culprit_field<T: DeserializeOwned>(value: &Value, error: &str) -> Option<String> {
    let Value::Object(map) = value else {
        return None;
    };
    if error.contains("missing field") || error.contains("unknown field") {
        return None; // serde already names the field
    }
    map.keys()
        .find(|key| {
            let mut without = map.clone();
            without.remove(*key);
            match serde_json::from_value::<T>(Value::Object(without)) {
                Ok(_) => true,
                Err(other) => other.to_string() != error,
            }
        })
        .cloned()
}

fn rpc_error(e: CoreError) -> JsonRpcErrorBody {
    match &e {
        CoreError::InvalidParams(_) => JsonRpcErrorBody::invalid_params(e.to_string()),
        CoreError::ThreadNotFound(_) | CoreError::InvalidRequest(_) => {
            JsonRpcErrorBody::invalid_request(e.to_string())
        }
        CoreError::Config(_) => JsonRpcErrorBody::invalid_params(e.to_string()),
        CoreError::Store(_) | CoreError::Internal(_) => JsonRpcErrorBody::internal(e.to_string()),
    }
}

async fn answer<T: Serialize>(rt: &Runtime, id: RequestId, result: Result<T, CoreError>) -> bool {
    match result {
        Ok(v) => match serde_json::to_value(v) {
            Ok(v) => {
                rt.client().respond(id, v).await;
                true
            }
            Err(e) => {
                rt.client()
                    .respond_error(Some(id), JsonRpcErrorBody::internal(e.to_string()))
                    .await;
                false
            }
        },
        Err(e) => {
            rt.client().respond_error(Some(id), rpc_error(e)).await;
            false
        }
    }
}

/// Parses the params for `M`, or answers -32602 and returns `None`.
async fn params<M: Method>(rt: &Runtime, id: &RequestId, raw: Option<Value>) -> Option<M::Params> {
    match parse_params::<M::Params>(raw) {
        Ok(p) => Some(p),
        Err(e) => {
            rt.client().respond_error(Some(id.clone()), e).await;
            None
        }
    }
}

pub async fn handle(rt: &Runtime, id: RequestId, method: &str, raw: Option<Value>) {
    macro_rules! with_params {
        ($m:ty) => {
            match params::<$m>(rt, &id, raw).await {
                Some(p) => p,
                None => return,
            }
        };
    }
    match method {
        x if x == m::ThreadStart::NAME => {
            let p = with_params!(m::ThreadStart);
            let result = rt.start_thread(p).await;
            let thread = result.as_ref().ok().map(|r| r.thread.clone());
            if answer(rt, id, result).await {
                if let Some(t) = thread {
                    rt.announce_started(&t).await;
                }
            }
        }
        x if x == m::ThreadResume::NAME => {
            let p = with_params!(m::ThreadResume);
            answer(rt, id, rt.resume_thread(p).await).await;
        }
        x if x == m::ThreadFork::NAME => {
            let p = with_params!(m::ThreadFork);
            let result = rt.fork_thread(p).await;
            let thread = result.as_ref().ok().map(|r| r.thread.clone());
            if answer(rt, id, result).await {
                if let Some(t) = thread {
                    rt.announce_started(&t).await;
                }
            }
        }
        x if x == m::ThreadList::NAME => {
            let p = with_params!(m::ThreadList);
            answer(rt, id, rt.list_threads(p).await).await;
        }
        x if x == m::ThreadLoadedList::NAME => {
            let _ = with_params!(m::ThreadLoadedList);
            let data = rt.loaded_thread_ids();
            answer(
                rt,
                id,
                Ok(ThreadLoadedListResponse {
                    data,
                    next_cursor: None,
                }),
            )
            .await;
        }
        x if x == m::ThreadRead::NAME => {
            let p = with_params!(m::ThreadRead);
            answer(rt, id, rt.read_thread(p).await).await;
        }
        x if x == m::ThreadArchive::NAME => {
            let p = with_params!(m::ThreadArchive);
            let result = rt
                .archive(&p.thread_id)
                .await
                .map(|()| ThreadArchiveResponse {});
            if answer(rt, id, result).await {
                rt.announce_archived(&p.thread_id).await;
            }
        }
        x if x == m::ThreadUnarchive::NAME => {
            let p = with_params!(m::ThreadUnarchive);
            let result = rt
                .unarchive(&p.thread_id)
                .await
                .map(|thread| ThreadUnarchiveResponse { thread });
            if answer(rt, id, result).await {
                rt.announce_unarchived(&p.thread_id).await;
            }
        }
        x if x == m::ThreadSetName::NAME => {
            let p = with_params!(m::ThreadSetName);
            let result = rt
                .set_name(&p.thread_id, &p.name)
                .await
                .map(|()| ThreadSetNameResponse {});
            if answer(rt, id, result).await {
                rt.announce_renamed(&p.thread_id, &p.name).await;
            }
        }
        x if x == m::ThreadCompactStart::NAME => {
            let p = with_params!(m::ThreadCompactStart);
            match rt.compact(&p.thread_id).await {
                Ok(launch) => {
                    answer(rt, id, Ok(ThreadCompactStartResponse {})).await;
                    launch.launch();
                }
                Err(e) => {
                    answer::<ThreadCompactStartResponse>(rt, id, Err(e)).await;
                }
            }
        }
        x if x == m::TurnStart::NAME => {
            let p = with_params!(m::TurnStart);
            match rt.start_turn(p).await {
                Ok((response, launch)) => {
                    answer(rt, id, Ok(response)).await;
                    if let Some(launch) = launch {
                        launch.launch();
                    }
                }
                Err(e) => {
                    answer::<TurnStartResponse>(rt, id, Err(e)).await;
                }
            }
        }
        x if x == m::TurnSteer::NAME => {
            let p = with_params!(m::TurnSteer);
            answer(rt, id, rt.steer(p).await).await;
        }
        x if x == m::TurnInterrupt::NAME => {
            let p = with_params!(m::TurnInterrupt);
            match rt.prepare_interrupt(p).await {
                Ok(interrupt) => {
                    answer(rt, id, Ok(TurnInterruptResponse {})).await;
                    interrupt.stop().await;
                }
                Err(e) => {
                    answer::<TurnInterruptResponse>(rt, id, Err(e)).await;
                }
            }
        }
        x if x == m::ModelList::NAME => {
            let p = with_params!(m::ModelList);
            answer(rt, id, rt.list_models(p).await).await;
        }
        x if x == m::AccountRead::NAME => {
            let _ = with_params!(m::AccountRead);
            answer(rt, id, rt.read_account().await).await;
        }
        x if x == m::AccountLoginStart::NAME => {
            let p = with_params!(m::AccountLoginStart);
            if answer(rt, id, rt.login(p).await).await {
                rt.announce_account(Some("apikey")).await;
            }
        }
        x if x == m::AccountLoginCancel::NAME => {
            // Only API-key login exists here, and it completes synchronously: there is never a
            // pending login to cancel.
            let _ = with_params!(m::AccountLoginCancel);
            let status = CancelLoginAccountStatus::NotFound;
            answer(rt, id, Ok(CancelLoginAccountResponse { status })).await;
        }
        x if x == m::AccountLogout::NAME => {
            let _ = with_params!(m::AccountLogout);
            if answer(rt, id, rt.logout().await.map(|()| LogoutAccountResponse {})).await {
                rt.announce_account(None).await;
            }
        }
        other => {
            rt.client()
                .respond_error(Some(id), JsonRpcErrorBody::method_not_found(other))
                .await;
        }
    }
}
