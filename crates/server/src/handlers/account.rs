//! Account methods.

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods::{self as m, NoParams};
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(read);
    table.on(login_start);
    table.on(login_cancel);
    table.on(logout);
}

async fn read(cx: Cx, _p: GetAccountParams, r: Responder<m::AccountRead>) {
    r.answer(cx.runtime.read_account().await).await;
}

async fn login_start(cx: Cx, p: LoginAccountParams, r: Responder<m::AccountLoginStart>) {
    cx.runtime.login(p, r.reply()).await;
}

async fn login_cancel(cx: Cx, _p: CancelLoginAccountParams, r: Responder<m::AccountLoginCancel>) {
    r.answer(Ok(cx.runtime.cancel_login())).await;
}

async fn logout(cx: Cx, _p: NoParams, r: Responder<m::AccountLogout>) {
    cx.runtime.logout(r.reply()).await;
}
