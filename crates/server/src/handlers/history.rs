//! A thread's history, paged and edited: `thread/turns/list`, `thread/items/list`,
//! `thread/revert`, `thread/delete`, `thread/metadata/update`, `thread/inject_items`.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(turns_list);
    table.on(items_list);
    table.on(revert);
    table.on(delete);
    table.on(metadata_update);
    table.on(inject_items);
}

async fn turns_list(cx: Cx, p: ThreadTurnsListParams, r: Responder<m::ThreadTurnsList>) {
    r.answer(cx.runtime.list_turns(p).await).await;
}

async fn items_list(cx: Cx, p: ThreadItemsListParams, r: Responder<m::ThreadItemsList>) {
    r.answer(cx.runtime.list_items(p).await).await;
}

async fn revert(cx: Cx, p: ThreadRevertParams, r: Responder<m::ThreadRevert>) {
    cx.runtime.revert_thread(p, r.reply()).await;
}

async fn delete(cx: Cx, p: ThreadDeleteParams, r: Responder<m::ThreadDelete>) {
    cx.runtime.delete_thread(p, r.reply()).await;
}

async fn metadata_update(
    cx: Cx,
    p: ThreadMetadataUpdateParams,
    r: Responder<m::ThreadMetadataUpdate>,
) {
    r.answer(cx.runtime.update_thread_metadata(p).await).await;
}

async fn inject_items(cx: Cx, p: ThreadInjectItemsParams, r: Responder<m::ThreadInjectItems>) {
    r.answer(cx.runtime.inject_items(p).await).await;
}
