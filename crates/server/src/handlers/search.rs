//! `fuzzyFileSearch`.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(fuzzy_file_search);
}

async fn fuzzy_file_search(cx: Cx, p: FuzzyFileSearchParams, r: Responder<m::FuzzyFileSearch>) {
    r.answer(cx.runtime.fuzzy_file_search(p).await).await;
}
