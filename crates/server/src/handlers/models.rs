//! Model methods.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(list);
}

async fn list(cx: Cx, p: ModelListParams, r: Responder<m::ModelList>) {
    r.answer(cx.runtime.list_models(p).await).await;
}
