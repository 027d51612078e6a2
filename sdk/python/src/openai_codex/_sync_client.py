"""Blocking JSON-RPC connection used by `Codex`.

One reader thread owns stdout: it resolves pending requests (futures keyed by
request id), routes notifications through the shared `TurnRouter`, and hands
server requests to short-lived worker threads so a slow or deferred approval
never stalls other traffic.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import queue
import threading
import uuid
import weakref
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel

from . import _protocol as proto
from ._approvals import ApprovalDecision, ApprovalHandler, reply_for, reply_for_exception
from ._config import CodexConfig, child_env, launch_argv
from ._router import TURN_COMPLETED, Sink, TurnRouter
from ._transport import SubprocessTransport
from .errors import CodexError, TransportClosedError
from .models import JsonObject, JsonValue, Notification

ModelT = TypeVar("ModelT", bound=BaseModel)
# Wakes a `next()` blocked on the queue when the subscription is closed.
_WAKE = object()


class TurnSubscription:
    """Queue of notifications for one turn (filled by the reader thread).

    The router holds only the queue's `put`, never this object, so a handle that
    is dropped without being streamed releases its subscription (finalizer).
    """

    def __init__(self, connection: SyncConnection, turn_id: str) -> None:
        self.turn_id = turn_id
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.sink: Sink = self._queue.put
        self._closed = False
        self._completed = False
        self._release = weakref.finalize(self, connection.unsubscribe_sink, turn_id, self.sink)

    def next(self) -> Notification:
        """Block for the next notification; raises once the turn or connection ended."""
        if self._closed:
            raise TransportClosedError("Turn subscription closed")
        if self._completed and self._queue.empty():
            raise TransportClosedError("Turn is no longer streaming")
        item = self._queue.get()
        if item is _WAKE or self._closed:
            raise TransportClosedError("Turn subscription closed")
        if isinstance(item, BaseException):
            # Keep the error visible to any later read as well.
            self._queue.put(item)
            raise item
        assert isinstance(item, Notification)
        if item.method == TURN_COMPLETED:
            self._completed = True
        return item

    def close(self) -> None:
        """Stop the subscription; a blocked or later `next()` raises."""
        if not self._closed:
            self._closed = True
            self._queue.put(_WAKE)
            self._release()


async def _await_answer(answer: Awaitable[JsonObject | None]) -> JsonObject | None:
    return await answer


class SyncConnection:
    """A started app-server process plus the reader thread that serves it."""

    def __init__(
        self,
        config: CodexConfig,
        *,
        approval_handler: ApprovalHandler | None,
        approval_default: ApprovalDecision,
    ) -> None:
        self._handler = approval_handler
        self._default = approval_default
        # Reentrant: a subscription finalizer may run (via GC) while this thread holds it.
        self._lock = threading.RLock()
        self._pending: dict[str, concurrent.futures.Future[JsonValue]] = {}
        self._router = TurnRouter()
        self._closed_error: BaseException | None = None
        self._closing = False
        env = child_env(config)
        self._transport = SubprocessTransport(launch_argv(config, env), cwd=config.cwd, env=env)
        self._reader = threading.Thread(target=self._read_loop, name="codex-reader", daemon=True)
        self._reader.start()

    # -- requests ---------------------------------------------------------------

    def request(self, method: str, params: JsonObject | None) -> JsonValue:
        request_id = str(uuid.uuid4())
        future: concurrent.futures.Future[JsonValue] = concurrent.futures.Future()
        with self._lock:
            if self._closed_error is not None:
                raise self._closed_error
            self._pending[request_id] = future
        try:
            self._transport.write_line(
                proto.encode(proto.request_message(request_id, method, params))
            )
        except BaseException:
            with self._lock:
                self._pending.pop(request_id, None)
            raise
        return future.result()

    def request_model(self, method: str, params: JsonObject | None, model: type[ModelT]) -> ModelT:
        return proto.parse_result(method, self.request(method, params), model)

    def notify(self, method: str, params: JsonObject | None = None) -> None:
        self._transport.write_line(proto.encode(proto.notification_message(method, params)))

    def start_turn(self, params: JsonObject) -> tuple[JsonValue, TurnSubscription]:
        """Send `turn/start`; the subscription gets every event of the turn from now on."""
        with self._lock:
            mark = self._router.begin_turn_start()
        try:
            result = self.request("turn/start", params)
        except BaseException:
            with self._lock:
                self._router.finish_turn_start(mark, None, None)
            raise
        turn = result.get("turn") if isinstance(result, dict) else None
        turn_id = turn.get("id") if isinstance(turn, dict) else None
        if not isinstance(turn_id, str):
            with self._lock:
                self._router.finish_turn_start(mark, None, None)
            raise CodexError(f"turn/start returned no turn id: {result!r}")
        subscription = TurnSubscription(self, turn_id)
        with self._lock:
            self._router.finish_turn_start(mark, turn_id, subscription.sink)
        return result, subscription

    def subscribe(self, turn_id: str) -> TurnSubscription:
        subscription = TurnSubscription(self, turn_id)
        with self._lock:
            self._router.subscribe(turn_id, subscription.sink)
        return subscription

    def unsubscribe_sink(self, turn_id: str, sink: Sink) -> None:
        with self._lock:
            self._router.unsubscribe(turn_id, sink)

    def subscriber_count(self) -> int:
        with self._lock:
            return self._router.subscriber_count()

    # -- reader -------------------------------------------------------------------

    def _read_loop(self) -> None:
        while True:
            line = self._transport.read_line()
            if not line:
                break
            try:
                incoming = proto.decode(line)
            except CodexError as exc:
                self._transport.stderr.add(f"[ignored stdout line] {exc}".encode())
                continue
            if incoming is None:
                continue
            self._dispatch(incoming)
        if self._closing:
            error: BaseException = TransportClosedError("Codex client was closed")
        else:
            error = self._transport.closed_error("Codex app-server closed stdout unexpectedly")
        self._fail_all(error)

    def _dispatch(self, incoming: proto.Incoming) -> None:
        if isinstance(incoming, proto.Response):
            self._resolve(incoming.id, incoming.result, None)
        elif isinstance(incoming, proto.ErrorResponse):
            if incoming.id is not None:
                self._resolve(incoming.id, None, incoming.error)
        elif isinstance(incoming, proto.ServerRequest):
            threading.Thread(
                target=self._serve_request, args=(incoming,), name="codex-approval", daemon=True
            ).start()
        else:
            notification = proto.to_notification(incoming)
            with self._lock:
                self._router.route(proto.turn_id_of(incoming.params), notification)

    def _resolve(
        self, request_id: proto.RequestId, result: JsonValue, error: Exception | None
    ) -> None:
        with self._lock:
            future = self._pending.pop(str(request_id), None)
        if future is None:
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
                answer = answer.result()
            elif inspect.isawaitable(answer):
                answer = asyncio.run(_await_answer(answer))
            reply = reply_for(request.id, request.method, answer, self._default)
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            # A cancelled deferred answer still owes the server a reply: the default.
            reply = reply_for(request.id, request.method, None, self._default)
        except Exception as exc:
            reply = reply_for_exception(request.id, exc)
        # The connection may be gone by the time a deferred answer arrives.
        with contextlib.suppress(TransportClosedError):
            self._transport.write_line(proto.encode(reply))

    def _fail_all(self, error: BaseException) -> None:
        with self._lock:
            if self._closed_error is None:
                self._closed_error = error
            pending = list(self._pending.values())
            self._pending.clear()
            self._router.close(error)
        for future in pending:
            if not future.done():
                future.set_exception(error)

    # -- shutdown -----------------------------------------------------------------

    def close(self) -> None:
        self._closing = True
        self._transport.close()
        self._reader.join(timeout=5.0)
        self._fail_all(TransportClosedError("Codex client was closed"))
