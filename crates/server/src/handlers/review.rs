//! Review methods.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::ReviewStartParams;

pub fn register(table: &mut HandlerTable) {
    table.on(start);
}

async fn start(cx: Cx, p: ReviewStartParams, r: Responder<m::ReviewStart>) {
    cx.runtime
        .start_review(&cx.client.caller(), p, r.reply())
        .await;
}
