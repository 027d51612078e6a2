"""How the SDK answers each server -> client request (sans-I/O, shared by both clients).

`Responder.job(request)` decides who answers and returns a `Job`; the connection
decides where it runs (a worker thread, or a task on the event loop) and writes
the reply. `item/tool/call` for a thread started with `tools=` goes to the
thread's `Toolset`; every other request goes to the approval handler (see
`_approvals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._approvals import CANCELLED, ApprovalDecision, ApprovalHandler, reply_for, reply_for_exception
from ._protocol import ServerRequest, result_message
from ._tool_results import failure_reply, success_reply
from ._tools import ToolArgumentsError, Toolset
from .generated import methods
from .models import JsonObject


@dataclass(frozen=True, slots=True)
class Job:
    """One server request to answer.

    `call()` returns the answer, an awaitable, or a `concurrent.futures.Future`;
    `blocking` says it may block (a plain function tool), so an event loop runs
    it in a worker thread. `finish(value)` builds the reply for the final value,
    `fail(exc)` the reply when the call or its deferred value raised or was
    cancelled.
    """

    call: Callable[[], Any]
    blocking: bool
    finish: Callable[[Any], JsonObject]
    fail: Callable[[BaseException], JsonObject]


def _none() -> None:
    return None


class Responder:
    """The approval handler and the tools registered per thread."""

    def __init__(self, handler: ApprovalHandler | None, default: ApprovalDecision) -> None:
        self._handler = handler
        self._default = default
        self._tools: dict[str, Toolset] = {}

    def register_tools(self, thread_id: str, toolset: Toolset) -> None:
        """Answer this thread's `item/tool/call` requests with `toolset` from now on."""
        if toolset:
            self._tools[thread_id] = toolset

    def job(self, request: ServerRequest) -> Job:
        params = request.params or {}
        thread_id = params.get("threadId")
        toolset = self._tools.get(thread_id) if isinstance(thread_id, str) else None
        if request.method == methods.ITEM_TOOL_CALL and toolset is not None:
            return _tool_job(request, toolset)
        handler = self._handler

        def call() -> Any:
            return None if handler is None else handler(request.method, request.params)

        return Job(
            call=call,
            blocking=False,
            finish=lambda answer: reply_for(request.id, request.method, answer, self._default),
            fail=lambda exc: reply_for_exception(request.id, request.method, exc, self._default),
        )


def _tool_job(request: ServerRequest, toolset: Toolset) -> Job:
    params = request.params or {}
    name = params.get("tool")
    namespace = params.get("namespace")
    found = toolset.get(namespace if isinstance(namespace, str) else None, str(name))

    def finish(value: Any) -> JsonObject:
        return result_message(request.id, success_reply(value))

    def fail(exc: BaseException) -> JsonObject:
        if isinstance(exc, ToolArgumentsError):
            message = str(exc)
        elif isinstance(exc, CANCELLED):
            message = f"Tool {name!r} was cancelled"
        else:
            message = f"Tool {name!r} failed: {type(exc).__name__}: {exc}"
        return result_message(request.id, failure_reply(message))

    if found is None:
        where = f"{namespace}." if isinstance(namespace, str) else ""
        missing = failure_reply(f"No tool named {where}{name} is registered for this thread")
        return Job(_none, False, lambda _: result_message(request.id, missing), fail)
    arguments = params.get("arguments")
    return Job(lambda: found.invoke(arguments), not found.is_async, finish, fail)
