//! File methods (`fs/*`). Paths must be absolute; errors name the path and the cause. Watches
//! belong to the connection that made them: `fs/changed` goes to it alone, and its watches end
//! when it closes.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_core::CoreError;
use codex_protocol::methods::{self as m, Notification};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(read_file);
    table.on(write_file);
    table.on(create_directory);
    table.on(get_metadata);
    table.on(read_directory);
    table.on(remove);
    table.on(copy);
    table.on(watch);
    table.on(unwatch);
}

async fn read_file(cx: Cx, p: FsReadFileParams, r: Responder<m::FsReadFile>) {
    r.answer(cx.runtime.read_file(p).await).await;
}

async fn write_file(cx: Cx, p: FsWriteFileParams, r: Responder<m::FsWriteFile>) {
    r.answer(cx.runtime.write_file(p).await).await;
}

async fn create_directory(cx: Cx, p: FsCreateDirectoryParams, r: Responder<m::FsCreateDirectory>) {
    r.answer(cx.runtime.create_directory(p).await).await;
}

async fn get_metadata(cx: Cx, p: FsGetMetadataParams, r: Responder<m::FsGetMetadata>) {
    r.answer(cx.runtime.file_metadata(p).await).await;
}

async fn read_directory(cx: Cx, p: FsReadDirectoryParams, r: Responder<m::FsReadDirectory>) {
    r.answer(cx.runtime.read_directory(p).await).await;
}

async fn remove(cx: Cx, p: FsRemoveParams, r: Responder<m::FsRemove>) {
    r.answer(cx.runtime.remove_path(p).await).await;
}

async fn copy(cx: Cx, p: FsCopyParams, r: Responder<m::FsCopy>) {
    r.answer(cx.runtime.copy_path(p).await).await;
}

async fn watch(cx: Cx, p: FsWatchParams, r: Responder<m::FsWatch>) {
    let wanted = cx.client.wants(m::FsChanged::NAME);
    let registry = match cx.client.fs_watches.registry(&cx.client.peer, wanted) {
        Ok(registry) => registry,
        Err(e) => return r.error(crate::rpc_error::rpc_error(e.into())).await,
    };
    // A recursive watch walks the whole tree to arm the kernel: off the async workers.
    let result = tokio::task::spawn_blocking(move || registry.watch(&p))
        .await
        .map_err(|e| CoreError::Internal(format!("fs/watch stopped: {e}")))
        .and_then(|watched| watched.map_err(CoreError::from));
    r.answer(result).await;
}

async fn unwatch(cx: Cx, p: FsUnwatchParams, r: Responder<m::FsUnwatch>) {
    let result = match cx.client.fs_watches.existing() {
        Some(registry) => registry.unwatch(&p).map_err(CoreError::from),
        None => Err(CoreError::from(
            codex_workspace::WorkspaceError::UnknownWatch(p.watch_id),
        )),
    };
    r.answer(result).await;
}
