"""asyncio JSON-RPC connection used by `AsyncCodex`.

A reader task owns stdout and resolves futures, routes notifications through
the shared `TurnRouter`, and answers server requests; deferred (awaitable or
`concurrent.futures.Future`) answers run as their own tasks. Everything runs
on one event loop, so no locks are needed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import uuid
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel

from . import _protocol as proto
from ._approvals import ApprovalDecision, ApprovalHandler, reply_for, reply_for_exception
from ._config import CodexConfig, child_env, launch_argv
from ._router import TURN_COMPLETED, Sink, TurnRouter
from ._transport import AsyncSubprocessTransport
from .errors import CodexError, TransportClosedError
from .models import JsonObject, JsonValue, Notification

ModelT = TypeVar("ModelT", bound=BaseModel)
# Wakes a `next()` waiting on the queue when the subscription is closed.
_WAKE = object()


class AsyncTurnSubscription:
    """asyncio queue of notifications for one turn.

    The router holds only the queue's `put_nowait`, never this object, so a handle
    that is dropped without being streamed releases its subscription (finalizer).
    """

    def __init__(self, connection: AsyncConnection, turn_id: str) -> None:
        self.turn_id = turn_id
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self.sink: Sink = self._queue.put_nowait
        self._closed = False
        self._completed = False
        self._release = weakref.finalize(self, connection.unsubscribe_sink, turn_id, self.sink)

    async def next(self) -> Notification:
        """Wait for the next notification; raises once the turn or connection ended."""
        if self._closed:
            raise TransportClosedError("Turn subscription closed")
        if self._completed and self._queue.empty():
            raise TransportClosedError("Turn is no longer streaming")
        item = await self._queue.get()
        if item is _WAKE or self._closed:
            raise TransportClosedError("Turn subscription closed")
        if isinstance(item, BaseException):
            self._queue.put_nowait(item)
            raise item
        assert isinstance(item, Notification)
        if item.method == TURN_COMPLETED:
            self._completed = True
        return item

    def close(self) -> None:
        """Stop the subscription; a waiting or later `next()` raises."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(_WAKE)
            self._release()


def _self_cancelled() -> bool:
    """True when the current task was asked to cancel (Python 3.11+ can tell)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


class AsyncConnection:
    """A started app-server process plus the reader task that serves it."""

    def __init__(
        self,
        transport: AsyncSubprocessTransport,
        *,
        approval_handler: ApprovalHandler | None,
        approval_default: ApprovalDecision,
    ) -> None:
        self._transport = transport
        self._handler = approval_handler
        self._default = approval_default
        self._pending: dict[str, asyncio.Future[JsonValue]] = {}
        self._router = TurnRouter()
        self._closed_error: BaseException | None = None
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def open(
        cls,
        config: CodexConfig,
        *,
        approval_handler: ApprovalHandler | None,
        approval_default: ApprovalDecision,
    ) -> AsyncConnection:
        env = child_env(config)
        transport = await AsyncSubprocessTransport.spawn(
            launch_argv(config, env), cwd=config.cwd, env=env
        )
        return cls(transport, approval_handler=approval_handler, approval_default=approval_default)

    # -- requests ---------------------------------------------------------------

    async def request(self, method: str, params: JsonObject | None) -> JsonValue:
        if self._closed_error is not None:
            raise self._closed_error
        request_id = str(uuid.uuid4())
        future: asyncio.Future[JsonValue] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._transport.write_line(
                proto.encode(proto.request_message(request_id, method, params))
            )
            return await future
        finally:
            self._pending.pop(request_id, None)

    async def request_model(
        self, method: str, params: JsonObject | None, model: type[ModelT]
    ) -> ModelT:
        return proto.parse_result(method, await self.request(method, params), model)

    async def notify(self, method: str, params: JsonObject | None = None) -> None:
        await self._transport.write_line(proto.encode(proto.notification_message(method, params)))

    async def start_turn(self, params: JsonObject) -> tuple[JsonValue, AsyncTurnSubscription]:
        """Send `turn/start`; the subscription gets every event of the turn from now on."""
        mark = self._router.begin_turn_start()
        try:
            result = await self.request("turn/start", params)
        except BaseException:
            self._router.finish_turn_start(mark, None, None)
            raise
        turn = result.get("turn") if isinstance(result, dict) else None
        turn_id = turn.get("id") if isinstance(turn, dict) else None
        if not isinstance(turn_id, str):
            self._router.finish_turn_start(mark, None, None)
            raise CodexError(f"turn/start returned no turn id: {result!r}")
        subscription = AsyncTurnSubscription(self, turn_id)
        self._router.finish_turn_start(mark, turn_id, subscription.sink)
        return result, subscription

    def subscribe(self, turn_id: str) -> AsyncTurnSubscription:
        subscription = AsyncTurnSubscription(self, turn_id)
        self._router.subscribe(turn_id, subscription.sink)
        return subscription

    def unsubscribe_sink(self, turn_id: str, sink: Sink) -> None:
        self._router.unsubscribe(turn_id, sink)

    def subscriber_count(self) -> int:
        return self._router.subscriber_count()

    # -- reader -------------------------------------------------------------------

    async def _read_loop(self) -> None:
        while True:
            line = await self._transport.read_line()
            if not line:
                break
            try:
                incoming = proto.decode(line)
            except CodexError as exc:
                self._transport.stderr.add(f"[ignored stdout line] {exc}".encode())
                continue
            if incoming is not None:
                self._dispatch(incoming)
        if self._closing:
            error: BaseException = TransportClosedError("Codex client was closed")
        else:
            error = await self._transport.closed_error(
                "Codex app-server closed stdout unexpectedly"
            )
        self._fail_all(error)

    def _dispatch(self, incoming: proto.Incoming) -> None:
        if isinstance(incoming, proto.Response):
            self._resolve(incoming.id, incoming.result, None)
        elif isinstance(incoming, proto.ErrorResponse):
            if incoming.id is not None:
                self._resolve(incoming.id, None, incoming.error)
        elif isinstance(incoming, proto.ServerRequest):
            self._serve_request(incoming)
        else:
            notification = proto.to_notification(incoming)
            self._router.route(proto.turn_id_of(incoming.params), notification)

    def _resolve(
        self, request_id: proto.RequestId, result: JsonValue, error: Exception | None
    ) -> None:
        future = self._pending.pop(str(request_id), None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def _serve_request(self, request: proto.ServerRequest) -> None:
        try:
            answer: Any = None
            if self._handler is not None:
                answer = self._handler(request.method, request.params)
            if isinstance(answer, concurrent.futures.Future):
                answer = asyncio.wrap_future(answer)
            if inspect.isawaitable(answer):
                self._spawn(self._reply_later(request, answer))
                return
            reply = reply_for(request.id, request.method, answer, self._default)
        except Exception as exc:
            reply = reply_for_exception(request.id, exc)
        self._spawn(self._send_reply(reply))

    async def _reply_later(self, request: proto.ServerRequest, answer: Awaitable[Any]) -> None:
        try:
            reply = reply_for(request.id, request.method, await answer, self._default)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            if self._closing or _self_cancelled():
                raise  # this task itself is being cancelled (shutdown)
            # The deferred answer was cancelled: the server still needs a reply.
            reply = reply_for(request.id, request.method, None, self._default)
        except Exception as exc:
            reply = reply_for_exception(request.id, exc)
        await self._send_reply(reply)

    async def _send_reply(self, reply: JsonObject) -> None:
        # The connection may be gone by the time a deferred answer arrives.
        with contextlib.suppress(TransportClosedError):
            await self._transport.write_line(proto.encode(reply))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _fail_all(self, error: BaseException) -> None:
        if self._closed_error is None:
            self._closed_error = error
        pending = list(self._pending.values())
        self._pending.clear()
        self._router.close(error)
        for future in pending:
            if not future.done():
                future.set_exception(error)

    # -- shutdown -----------------------------------------------------------------

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await self._transport.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout=5.0)
        if not self._reader.done():
            self._reader.cancel()
        self._fail_all(TransportClosedError("Codex client was closed"))
