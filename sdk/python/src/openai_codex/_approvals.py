"""Answers to server -> client requests: approvals and everything else.

A handler is called as `handler(method, params)` for every server request the
SDK does not answer itself (it answers `item/tool/call` for threads started
with `tools=`). It returns the JSON result object, or `None` to use the
default, or something that completes later: a coroutine/awaitable, or a
`concurrent.futures.Future`. Deferred answers never block other traffic.
Raising a `JsonRpcError` sends that error; any other exception becomes an
internal error (-32603). A cancelled deferred answer sends the default.

Default: the two approval requests get `{"decision": <approval_default>}`;
every other method gets a JSON-RPC "method not found" error (-32601).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Literal, TypeAlias

from ._protocol import INTERNAL_ERROR, METHOD_NOT_FOUND, RequestId, error_message, result_message
from .errors import JsonRpcError
from .generated import methods
from .models import JsonObject

ApprovalDecision: TypeAlias = Literal["accept", "decline"]
HandlerResult: TypeAlias = (
    JsonObject | Awaitable[JsonObject | None] | concurrent.futures.Future[JsonObject | None] | None
)
ApprovalHandler: TypeAlias = Callable[[str, JsonObject | None], HandlerResult]

APPROVAL_METHODS = frozenset(
    {
        methods.ITEM_COMMAND_EXECUTION_REQUEST_APPROVAL,
        methods.ITEM_FILE_CHANGE_REQUEST_APPROVAL,
    }
)
CANCELLED = (asyncio.CancelledError, concurrent.futures.CancelledError)


def check_default(decision: str) -> ApprovalDecision:
    if decision == "accept":
        return "accept"
    if decision == "decline":
        return "decline"
    raise ValueError("approval_default must be 'accept' or 'decline'")


def reply_for(
    request_id: RequestId, method: str, answer: object, default: ApprovalDecision
) -> JsonObject:
    """The reply line for a handler's final answer (`None` = use the default)."""
    if answer is None:
        if method in APPROVAL_METHODS:
            return result_message(request_id, {"decision": default})
        return error_message(
            request_id, METHOD_NOT_FOUND, f"client does not handle server request {method}"
        )
    if not isinstance(answer, dict):
        return error_message(
            request_id,
            INTERNAL_ERROR,
            f"approval handler returned {type(answer).__name__}, expected a JSON object",
        )
    return result_message(request_id, answer)


def reply_for_exception(
    request_id: RequestId, method: str, exc: BaseException, default: ApprovalDecision
) -> JsonObject:
    """The reply line when the handler (or its deferred answer) raised or was cancelled."""
    if isinstance(exc, CANCELLED):
        return reply_for(request_id, method, None, default)
    if isinstance(exc, JsonRpcError):
        return error_message(request_id, exc.code, exc.message, exc.data)
    return error_message(request_id, INTERNAL_ERROR, f"approval handler failed: {exc!r}")
