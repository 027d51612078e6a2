//! Process methods: the `command/exec` family (a client's own commands) and
//! `thread/shellCommand` (the user's command, run in a thread).

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    table.on(exec);
    table.on(write);
    table.on(resize);
    table.on(terminate);
    table.on(shell_command);
}

async fn exec(cx: Cx, p: CommandExecParams, r: Responder<m::CommandExec>) {
    cx.runtime
        .command_exec(&cx.client.caller(), p, r.reply())
        .await;
}

async fn write(cx: Cx, p: CommandExecWriteParams, r: Responder<m::CommandExecWrite>) {
    r.answer(cx.runtime.command_exec_write(&cx.client.caller(), p).await)
        .await;
}

async fn resize(cx: Cx, p: CommandExecResizeParams, r: Responder<m::CommandExecResize>) {
    r.answer(cx.runtime.command_exec_resize(&cx.client.caller(), p))
        .await;
}

async fn terminate(cx: Cx, p: CommandExecTerminateParams, r: Responder<m::CommandExecTerminate>) {
    r.answer(cx.runtime.command_exec_terminate(&cx.client.caller(), p))
        .await;
}

async fn shell_command(cx: Cx, p: ThreadShellCommandParams, r: Responder<m::ThreadShellCommand>) {
    cx.runtime
        .shell_command(&cx.client.caller(), p, r.reply())
        .await;
}
