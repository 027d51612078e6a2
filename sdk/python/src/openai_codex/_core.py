"""The sans-I/O connection core: everything about a connection except reading,
writing and scheduling, shared by the sync and the async client.

The core allocates request ids and keeps the pending-request table, turns each
incoming line into its effect, tracks turn subscriptions (through `TurnRouter`)
and fails everything at once when the connection closes. It never reads, writes,
sleeps or starts anything: a request hands it a *waiter* (a
`concurrent.futures.Future` or an `asyncio.Future`, both fit `Waiter`) and gets
back the line to write; a response settles that waiter; a notification goes to
the subscribed sinks (non-blocking queue puts). What only the caller can do is
returned: a server request to answer, or a line to report as ignored.

Not thread-safe: the sync client calls it under its lock, the async client from
its event loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ._protocol import (
    ErrorResponse,
    RequestId,
    Response,
    ServerRequest,
    decode,
    encode,
    request_message,
    to_notification,
    turn_id_of,
)
from ._router import Sink, StartMark, TurnRouter
from .errors import CodexError
from .models import JsonObject, JsonValue


class Waiter(Protocol):
    """Where a request's outcome goes: both Future types satisfy this."""

    def done(self) -> bool: ...

    def set_result(self, result: JsonValue, /) -> None: ...

    def set_exception(self, exception: BaseException, /) -> None: ...


@dataclass(frozen=True, slots=True)
class IgnoredLine:
    """A stdout line that is not a message; the caller records it with the stderr tail."""

    note: str


# What the caller must do after `receive`: answer a server request, or record a note.
Effect = ServerRequest | IgnoredLine


def started_turn_id(result: JsonValue) -> str | None:
    """The turn id of a `turn/start` result (`result.turn.id`), if it has one."""
    turn = result.get("turn") if isinstance(result, dict) else None
    turn_id = turn.get("id") if isinstance(turn, dict) else None
    return turn_id if isinstance(turn_id, str) else None


class ConnectionCore:
    """Pending requests, turn routing and the closed state of one connection."""

    def __init__(self) -> None:
        self._next_id = 0
        self._pending: dict[RequestId, Waiter] = {}
        self._router = TurnRouter()
        self.closed: BaseException | None = None

    # -- requests -----------------------------------------------------------------

    def request(
        self, method: str, params: JsonObject | None, waiter: Waiter
    ) -> tuple[RequestId, bytes]:
        """Register `waiter` for a new request; returns its id and the line to send."""
        if self.closed is not None:
            raise self.closed
        self._next_id += 1
        request_id = self._next_id
        self._pending[request_id] = waiter
        return request_id, encode(request_message(request_id, method, params))

    def forget(self, request_id: RequestId) -> None:
        """Drop a request nobody waits for any more (send failed, caller cancelled)."""
        self._pending.pop(request_id, None)

    def pending_count(self) -> int:
        return len(self._pending)

    # -- incoming -----------------------------------------------------------------

    def receive(self, line: bytes) -> Effect | None:
        """Apply one stdout line; returns what is left for the caller to do, if anything."""
        try:
            incoming = decode(line)
        except CodexError as exc:
            return IgnoredLine(f"[ignored stdout line] {exc}")
        if isinstance(incoming, Response):
            self._settle(incoming.id, incoming.result, None)
        elif isinstance(incoming, ErrorResponse):
            if incoming.id is not None:
                self._settle(incoming.id, None, incoming.error)
        elif isinstance(incoming, ServerRequest):
            return incoming
        elif incoming is not None:
            self._router.route(turn_id_of(incoming.params), to_notification(incoming))
        return None

    def _settle(self, request_id: RequestId, result: JsonValue, error: Exception | None) -> None:
        waiter = self._pending.pop(request_id, None)
        if waiter is None or waiter.done():
            return
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)

    def close(self, error: BaseException) -> None:
        """Fail every pending request and subscription; later requests raise the first error."""
        if self.closed is None:
            self.closed = error
        pending = list(self._pending.values())
        self._pending.clear()
        self._router.close(error)
        for waiter in pending:
            if not waiter.done():
                waiter.set_exception(error)

    # -- turn subscriptions ---------------------------------------------------------

    def begin_turn_start(self) -> StartMark:
        """Call before sending `turn/start` (see `TurnRouter`)."""
        return self._router.begin_turn_start()

    def finish_turn_start(self, mark: StartMark, turn_id: str | None, sink: Sink | None) -> None:
        """Call after the `turn/start` reply: `sink` claims `turn_id` (None: nothing claimed)."""
        self._router.finish_turn_start(mark, turn_id, sink)

    def subscribe(self, turn_id: str, sink: Sink) -> None:
        self._router.subscribe(turn_id, sink)

    def unsubscribe(self, turn_id: str, sink: Sink) -> None:
        self._router.unsubscribe(turn_id, sink)

    def subscriber_count(self) -> int:
        return self._router.subscriber_count()
