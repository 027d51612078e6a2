//! Turn methods.

use super::subscriptions::joining;
use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(start);
    table.on(steer);
    table.on(interrupt);
}

async fn start(cx: Cx, p: TurnStartParams, r: Responder<m::TurnStart>) {
    let reply = joining(&cx, &p.thread_id, r);
    cx.runtime.start_turn(&cx.client.caller(), p, reply).await;
}

async fn steer(cx: Cx, p: TurnSteerParams, r: Responder<m::TurnSteer>) {
    r.answer(cx.runtime.steer_turn(p).await).await;
}

async fn interrupt(cx: Cx, p: TurnInterruptParams, r: Responder<m::TurnInterrupt>) {
    cx.runtime.interrupt_turn(p, r.reply()).await;
}
