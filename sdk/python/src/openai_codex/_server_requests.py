"""How the SDK answers each server -> client request (sans-I/O, shared by both clients).

`Responder.job(request)` decides who answers and returns a `Job`; the connection
decides where it runs (a worker thread, or a task on the event loop) and writes
the reply. Requests go to the approval handler (see `_approvals`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._approvals import ApprovalDecision, ApprovalHandler, reply_for, reply_for_exception
from ._protocol import ServerRequest
from .models import JsonObject


@dataclass(frozen=True, slots=True)
class Job:
    """One server request to answer.

    `call()` returns the answer, an awaitable, or a `concurrent.futures.Future`;
    `blocking` says it may block, so an event loop runs it in a worker thread.
    `finish(value)` builds the reply for the final value, `fail(exc)` the reply
    when the call or its deferred value raised or was cancelled.
    """

    call: Callable[[], Any]
    blocking: bool
    finish: Callable[[Any], JsonObject]
    fail: Callable[[BaseException], JsonObject]


class Responder:
    """Turns server requests into jobs for the approval handler."""

    def __init__(self, handler: ApprovalHandler | None, default: ApprovalDecision) -> None:
        self._handler = handler
        self._default = default

    def job(self, request: ServerRequest) -> Job:
        handler = self._handler

        def call() -> Any:
            return None if handler is None else handler(request.method, request.params)

        return Job(
            call=call,
            blocking=False,
            finish=lambda answer: reply_for(request.id, request.method, answer, self._default),
            fail=lambda exc: reply_for_exception(request.id, request.method, exc, self._default),
        )
