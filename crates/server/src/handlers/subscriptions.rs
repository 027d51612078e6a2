//! Subscriptions: `thread/unsubscribe`, `thread/resume` (which subscribes and re-attaches to a
//! running turn), the subscribing answers of the methods that start or use a thread, and
//! unloading a thread once its last subscriber has left.
//!
//! Who subscribes: `thread/start`, `thread/fork` and `thread/resume` subscribe the caller (as
//! the official server does); `turn/start` and `thread/compact/start` subscribe it too, unless
//! it left the thread with `thread/unsubscribe` (they load a thread that is not loaded, which
//! the official server refuses to do without a resume). After `thread/unsubscribe` the client
//! gets only `thread/status/changed` (and `thread/closed`) for the thread until it resumes it.

use crate::dispatch::{Cx, HandlerTable, Responder};
use crate::reattach;
use crate::router::Router;
use codex_core::runtime::unload::Unload;
use codex_core::{Reply, Runtime};
use codex_protocol::methods::{self as m, Method};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(unsubscribe);
}

async fn unsubscribe(cx: Cx, p: ThreadUnsubscribeParams, r: Responder<m::ThreadUnsubscribe>) {
    let id = p.thread_id;
    let subscriptions = cx.router.subscriptions();
    let (status, orphaned) = if !cx.runtime.is_loaded(&id) {
        subscriptions.unsubscribe(cx.client.origin, &id);
        (ThreadUnsubscribeStatus::NotLoaded, false)
    } else {
        match subscriptions.unsubscribe(cx.client.origin, &id) {
            None => (ThreadUnsubscribeStatus::NotSubscribed, false),
            Some(orphaned) => {
                cx.client.leave(&id);
                (ThreadUnsubscribeStatus::Unsubscribed, orphaned)
            }
        }
    };
    r.answer(Ok(ThreadUnsubscribeResponse { status })).await;
    if orphaned {
        unload_when_unwanted(cx.runtime.clone(), cx.router.clone(), id);
    }
}

/// `thread/resume`: subscribes the caller before the thread is looked up (so it is never
/// unloaded under the answer), answers with the running turn's items so far, then releases
/// what was published meanwhile.
pub async fn resume(cx: Cx, p: ThreadResumeParams, r: Responder<m::ThreadResume>) {
    let thread_id = p.thread_id.clone();
    let subscriptions = cx.router.subscriptions();
    cx.client.rejoin(&thread_id);
    let attachment = subscriptions.attach(&cx.client, &thread_id);
    match cx.runtime.resume_thread(p).await {
        Ok(mut response) => {
            let in_progress = reattach::patch(&mut response.thread.turns, &attachment.live_turn);
            let limit = cx.runtime.max_response_bytes();
            let oversized = |size| cx.runtime.oversized_response(m::ThreadResume::NAME, size);
            if r.answer_within(Ok(response), limit, oversized).await {
                subscriptions.release(&cx.client, &thread_id, &in_progress);
            } else if subscriptions.abandon(&cx.client, &thread_id, attachment) {
                // Answered with an error (too long): the caller did not join the thread.
                unload_when_unwanted(cx.runtime.clone(), cx.router.clone(), thread_id);
            }
        }
        Err(e) => {
            r.answer(Err(e)).await;
            if subscriptions.abandon(&cx.client, &thread_id, attachment) {
                unload_when_unwanted(cx.runtime.clone(), cx.router.clone(), thread_id);
            }
        }
    }
}

/// The answer of a method that creates a thread (`thread/start`, `thread/fork`): on success
/// the caller is subscribed to the thread the answer names, before the answer (and so before
/// `thread/started`) is sent.
pub fn subscribing<M>(
    cx: &Cx,
    r: Responder<M>,
    thread_of: fn(&M::Response) -> &str,
) -> Reply<M::Response>
where
    M: Method + 'static,
    M::Response: Send + 'static,
{
    let (router, client) = (cx.router.clone(), cx.client.clone());
    Reply::new(move |result| {
        Box::pin(async move {
            if let Ok(response) = &result {
                let thread_id = thread_of(response);
                client.rejoin(thread_id);
                router.subscriptions().subscribe(&client, thread_id);
            }
            r.answer(result).await
        })
    })
}

/// The answer of a method that runs a turn on `thread_id` (`turn/start`,
/// `thread/compact/start`): on success the caller is subscribed, unless it left the thread.
pub fn joining<M>(cx: &Cx, thread_id: &str, r: Responder<M>) -> Reply<M::Response>
where
    M: Method + 'static,
    M::Response: Send + 'static,
{
    let (router, client) = (cx.router.clone(), cx.client.clone());
    let thread_id = thread_id.to_string();
    Reply::new(move |result| {
        Box::pin(async move {
            if result.is_ok() && !client.has_left(&thread_id) {
                router.subscriptions().subscribe(&client, &thread_id);
            }
            r.answer(result).await
        })
    })
}

/// Unloads `thread_id` once it is idle, unless someone subscribes to it first: right away
/// when no turn runs, else when the running turn has ended.
pub(crate) fn unload_when_unwanted(runtime: Runtime, router: Router, thread_id: String) {
    tokio::spawn(async move {
        loop {
            let (subs, id) = (router.clone(), thread_id.clone());
            let still_unwanted = move || !subs.subscriptions().is_wanted(&id);
            match runtime.unload_thread(&thread_id, still_unwanted).await {
                Unload::Busy(mut finished) => {
                    // An error means the turn task is gone (shutdown): nothing left to do.
                    if finished.wait_for(|done| *done).await.is_err() {
                        return;
                    }
                }
                Unload::Unloaded | Unload::Kept | Unload::NotLoaded => return,
            }
        }
    });
}
