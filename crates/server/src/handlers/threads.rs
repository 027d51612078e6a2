//! Thread methods.

use super::subscriptions::{self, joining, subscribing};
use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods::{self as m, Method};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(start);
    table.on(resume);
    table.on(fork);
    table.on(list);
    table.on(loaded_list);
    table.on(read);
    table.on(archive);
    table.on(unarchive);
    table.on(set_name);
    table.on(compact);
}

async fn start(cx: Cx, p: ThreadStartParams, r: Responder<m::ThreadStart>) {
    let reply = subscribing(&cx, r, |a: &ThreadStartResponse| &a.thread.id);
    cx.runtime.start_thread(&cx.client.caller(), p, reply).await;
}

async fn resume(cx: Cx, p: ThreadResumeParams, r: Responder<m::ThreadResume>) {
    subscriptions::resume(cx, p, r).await;
}

async fn fork(cx: Cx, p: ThreadForkParams, r: Responder<m::ThreadFork>) {
    let reply = subscribing(&cx, r, |a: &ThreadForkResponse| &a.thread.id);
    cx.runtime.fork_thread(&cx.client.caller(), p, reply).await;
}

async fn list(cx: Cx, p: ThreadListParams, r: Responder<m::ThreadList>) {
    r.answer(cx.runtime.list_threads(p).await).await;
}

async fn loaded_list(cx: Cx, _p: ThreadLoadedListParams, r: Responder<m::ThreadLoadedList>) {
    r.answer(Ok(cx.runtime.loaded_threads())).await;
}

async fn read(cx: Cx, p: ThreadReadParams, r: Responder<m::ThreadRead>) {
    let limit = cx.runtime.max_response_bytes();
    let oversized = |size| cx.runtime.oversized_response(m::ThreadRead::NAME, size);
    r.answer_within(cx.runtime.read_thread(p).await, limit, oversized)
        .await;
}

async fn archive(cx: Cx, p: ThreadArchiveParams, r: Responder<m::ThreadArchive>) {
    cx.runtime.archive_thread(p, r.reply()).await;
}

async fn unarchive(cx: Cx, p: ThreadUnarchiveParams, r: Responder<m::ThreadUnarchive>) {
    cx.runtime.unarchive_thread(p, r.reply()).await;
}

async fn set_name(cx: Cx, p: ThreadSetNameParams, r: Responder<m::ThreadSetName>) {
    cx.runtime.set_thread_name(p, r.reply()).await;
}

async fn compact(cx: Cx, p: ThreadCompactStartParams, r: Responder<m::ThreadCompactStart>) {
    let reply = joining(&cx, &p.thread_id, r);
    cx.runtime
        .compact_thread(&cx.client.caller(), p, reply)
        .await;
}
