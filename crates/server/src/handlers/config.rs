//! Configuration methods. A write answers `{status, version, filePath}` and takes effect for
//! threads started afterwards; a stale `expectedVersion` is refused with
//! `data.config_write_error_code: "configVersionConflict"`.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods::{self as m, NoParams};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(read);
    table.on(value_write);
    table.on(batch_write);
    table.on(requirements_read);
}

async fn read(cx: Cx, p: ConfigReadParams, r: Responder<m::ConfigRead>) {
    r.answer(cx.runtime.read_config(p).await).await;
}

async fn value_write(cx: Cx, p: ConfigValueWriteParams, r: Responder<m::ConfigValueWrite>) {
    r.answer(cx.runtime.write_config_value(p).await).await;
}

async fn batch_write(cx: Cx, p: ConfigBatchWriteParams, r: Responder<m::ConfigBatchWrite>) {
    r.answer(cx.runtime.write_config_batch(p).await).await;
}

async fn requirements_read(cx: Cx, _p: NoParams, r: Responder<m::ConfigRequirementsRead>) {
    r.answer(cx.runtime.read_config_requirements().await).await;
}
