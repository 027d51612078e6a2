//! Skill methods: `skills/list`. (`skills/changed` is sent by the core's watcher.)

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(list);
}

async fn list(cx: Cx, p: SkillsListParams, r: Responder<m::SkillsList>) {
    r.answer(cx.runtime.list_skills(p).await).await;
}
