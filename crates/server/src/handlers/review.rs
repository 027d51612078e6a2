//! Review methods.

use super::subscriptions::{joining, subscribing};
use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::{ReviewDelivery, ReviewStartParams, ReviewStartResponse};

pub fn register(table: &mut HandlerTable) {
    table.on(start);
}

/// The caller follows the thread the review runs on: the thread itself (inline, as for a
/// turn), or the new thread (detached, as for a fork), so it sees the review's events.
async fn start(cx: Cx, p: ReviewStartParams, r: Responder<m::ReviewStart>) {
    let reply = if p.delivery.unwrap_or_default() == ReviewDelivery::Detached {
        subscribing(&cx, r, |response: &ReviewStartResponse| {
            &response.review_thread_id
        })
    } else {
        joining(&cx, &p.thread_id, r)
    };
    cx.runtime.start_review(&cx.client.caller(), p, reply).await;
}
