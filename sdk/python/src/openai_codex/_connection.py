"""What the blocking and the asyncio connection share: the sans-I/O core behind
one lock, turn subscriptions, turn-start bookkeeping and the responder for
server requests.

`ClientBase` takes what both public clients are constructed with, and keeps
the tools each thread answers with.
`ConnectionBase` is the whole connection minus I/O and scheduling; the two
shells (`_sync_client.Connection`, `_async_client.AsyncConnection`) add a
transport, a reader (thread or task), a way to wait for a response and a place
to run server-request jobs. `SubscriptionBase` is a turn's notification queue
minus the waiting, which each shell adds in `next()`.
"""

from __future__ import annotations

import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ._approvals import ApprovalDecision, ApprovalHandler, check_default
from ._config import CodexConfig
from ._core import ConnectionCore, IgnoredLine, Waiter, started_turn_id
from ._protocol import RequestId, ServerRequest
from ._router import TURN_COMPLETED, Sink, StartMark
from ._server_requests import Job, Responder
from ._tools import ToolFunction, Toolset, toolset_of
from ._transport import StderrTail
from .errors import CodexError, TransportClosedError
from .models import JsonObject, JsonValue, Notification

# Wakes a reader blocked on a subscription's queue when the subscription is closed.
_WAKE = object()


class SubscriptionBase:
    """Notifications of one turn, put by the router and read by one stream.

    The router holds only the queue's `put`, never this object, so a handle that
    is dropped without being streamed releases its subscription (finalizer).
    """

    def __init__(
        self, connection: ConnectionBase[Any], turn_id: str, put: Callable[[object], None]
    ) -> None:
        self.turn_id = turn_id
        self.sink: Sink = put
        self._put = put
        self._closed = False
        self._completed = False
        self._release = weakref.finalize(self, connection.unsubscribe_sink, turn_id, put)

    def _check_readable(self, queue_empty: bool) -> None:
        if self._closed:
            raise TransportClosedError("Turn subscription closed")
        if self._completed and queue_empty:
            raise TransportClosedError("Turn is no longer streaming")

    def _accept(self, item: object) -> Notification:
        """What a read of the queue means: a notification, or the end of the stream."""
        if item is _WAKE or self._closed:
            raise TransportClosedError("Turn subscription closed")
        if isinstance(item, BaseException):
            self._put(item)  # keep the error visible to any later read as well
            raise item
        if not isinstance(item, Notification):
            raise TypeError(f"unexpected queue item {item!r}")
        if item.method == TURN_COMPLETED:
            self._completed = True
        return item

    def close(self) -> None:
        """Stop the subscription; a waiting or later `next()` raises."""
        if not self._closed:
            self._closed = True
            self._put(_WAKE)
            self._release()


SubscriptionT = TypeVar("SubscriptionT", bound=SubscriptionBase)


class ConnectionBase(ABC, Generic[SubscriptionT]):
    """A connection's state and bookkeeping; subclasses add the I/O."""

    stderr: StderrTail

    def __init__(self, responder: Responder) -> None:
        self._core = ConnectionCore()
        self._responder = responder
        # Reentrant: a subscription finalizer may run (via GC) while this thread holds it.
        self._lock = threading.RLock()
        self._closing = False

    @abstractmethod
    def _new_subscription(self, turn_id: str) -> SubscriptionT: ...

    # -- requests -----------------------------------------------------------------

    def _register(
        self, method: str, params: JsonObject | None, waiter: Waiter
    ) -> tuple[RequestId, bytes]:
        with self._lock:
            return self._core.request(method, params, waiter)

    def _forget(self, request_id: RequestId) -> None:
        with self._lock:
            self._core.forget(request_id)

    # -- incoming -----------------------------------------------------------------

    def _receive(self, line: bytes) -> Job | None:
        """Apply one stdout line; returns a job when it was a server request to answer."""
        with self._lock:
            effect = self._core.receive(line)
        if isinstance(effect, IgnoredLine):
            self.stderr.add(effect.note.encode())
            return None
        if isinstance(effect, ServerRequest):
            return self._responder.job(effect)
        return None

    def _fail_all(self, error: BaseException) -> None:
        with self._lock:
            self._core.close(error)

    def _end_of_stream_error(self) -> BaseException | None:
        """The error to fail everything with when stdout ends on our own close."""
        return TransportClosedError("Codex client was closed") if self._closing else None

    # -- turn subscriptions ---------------------------------------------------------

    def subscribe(self, turn_id: str) -> SubscriptionT:
        """A subscription to `turn_id`'s notifications from now on."""
        subscription = self._new_subscription(turn_id)
        with self._lock:
            self._core.subscribe(turn_id, subscription.sink)
        return subscription

    def unsubscribe_sink(self, turn_id: str, sink: Sink) -> None:
        with self._lock:
            self._core.unsubscribe(turn_id, sink)

    def subscriber_count(self) -> int:
        with self._lock:
            return self._core.subscriber_count()

    def begin_turn_start(self) -> StartMark:
        """Call before sending `turn/start`; then `claim_turn` or `abandon_turn_start`."""
        with self._lock:
            return self._core.begin_turn_start()

    def abandon_turn_start(self, mark: StartMark) -> None:
        with self._lock:
            self._core.finish_turn_start(mark, None, None)

    def claim_turn(self, mark: StartMark, result: JsonValue) -> tuple[str, SubscriptionT]:
        """Subscribe to the turn a `turn/start` result names, with everything it sent so far."""
        turn_id = started_turn_id(result)
        if turn_id is None:
            self.abandon_turn_start(mark)
            raise CodexError(f"turn/start returned no turn id: {result!r}")
        subscription = self._new_subscription(turn_id)
        with self._lock:
            self._core.finish_turn_start(mark, turn_id, subscription.sink)
        return turn_id, subscription


class ClientBase(ABC):
    """The constructor both public clients share; `_open()` starts the server now
    (the blocking client) or arranges to start it on first use (the asyncio one)."""

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        approval_handler: ApprovalHandler | None = None,
        approval_default: ApprovalDecision = "accept",
    ) -> None:
        self._config = config or CodexConfig()
        self._responder = Responder(approval_handler, check_default(approval_default))
        self._open()

    @abstractmethod
    def _open(self) -> None: ...

    def _toolset(self, tools: Sequence[ToolFunction]) -> Toolset:
        """Validate `tools=` before anything is sent."""
        toolset = toolset_of(tools)
        if toolset and not self._config.experimental_api:
            raise ValueError(
                "tools= needs CodexConfig(experimental_api=True): client-defined tools are "
                "an experimental API of the app-server"
            )
        return toolset

    def _adopt_thread(self, thread_id: str, toolset: Toolset) -> str:
        """Answer `thread_id`'s tool calls with `toolset` from now on; returns the id."""
        self._responder.register_tools(thread_id, toolset)
        return thread_id
