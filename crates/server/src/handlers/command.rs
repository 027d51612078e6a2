//! Process methods: the `command/exec` family (a client's own commands) and
//! `thread/shellCommand` (the user's command, run in a thread).

use crate::dispatch::{Cx, HandlerTable, Responder};
use codex_protocol::jsonrpc::JsonRpcErrorBody;
use codex_protocol::methods as m;
use codex_protocol::v2::*;

pub fn register(table: &mut HandlerTable) {
    // Inline: the process is registered before the connection's next request is read, so a
    // client may write to its stdin (or resize, or terminate it) right after starting it. The
    // handler returns once the command has started; a task of the runtime answers at its end.
    table.on_inline(exec);
    table.on(write);
    table.on(resize);
    table.on(terminate);
    table.on(shell_command);
}

async fn exec(cx: Cx, p: CommandExecParams, r: Responder<m::CommandExec>) {
    // Inline handlers run before the connection's handshake check.
    if !cx.client.initialized() {
        r.error(JsonRpcErrorBody::invalid_request("Not initialized"))
            .await;
        return;
    }
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
