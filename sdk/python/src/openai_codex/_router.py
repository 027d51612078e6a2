"""Per-turn notification routing (sans-I/O; the caller provides locking).

Turn-scoped notifications (those with `turnId` or `turn.id`) go to the sinks
subscribed to that turn. A `turn/start` can return the id of a turn that is
already running (joining it), and a turn's first notifications can arrive
before the response that names it. So while any `turn/start` is in flight,
every turn-scoped notification is also logged, and each start remembers where
each log stood when it was sent: the subscriber that claims a turn id gets
everything of that turn from that point, then live delivery. When no start is
in flight the logs are dropped (unclaimed turns are ones nobody asked for, e.g.
compaction turns). A turn's sinks are released once its `turn/completed` (by
method name) has been delivered: nothing of that turn can follow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from .models import Notification

# A sink receives notifications, or the exception that ended the connection.
Sink: TypeAlias = Callable[[Notification | BaseException], None]

TURN_COMPLETED = "turn/completed"


class StartMark:
    """Where every turn log stood when one `turn/start` was sent."""

    __slots__ = ("offsets",)

    def __init__(self, offsets: dict[str, int]) -> None:
        self.offsets = offsets


class TurnRouter:
    """Routes notifications to turn subscribers; logs turn traffic during starts."""

    def __init__(self) -> None:
        self._sinks: dict[str, list[Sink]] = {}
        self._log: dict[str, list[Notification]] = {}
        self._marks: list[StartMark] = []
        self._closed: BaseException | None = None

    def begin_turn_start(self) -> StartMark:
        """Call before sending `turn/start`; pass the mark to `finish_turn_start`."""
        mark = StartMark({turn_id: len(log) for turn_id, log in self._log.items()})
        self._marks.append(mark)
        return mark

    def finish_turn_start(self, mark: StartMark, turn_id: str | None, sink: Sink | None) -> None:
        """Call after the `turn/start` response (or its failure): claim `turn_id`."""
        # Identity, not equality: two marks may hold equal offsets.
        self._marks = [m for m in self._marks if m is not mark]
        if turn_id is not None and sink is not None:
            log = self._log.get(turn_id, [])
            self._attach(turn_id, sink, log[mark.offsets.get(turn_id, 0) :])
        if not self._marks:
            self._log.clear()

    def subscribe(self, turn_id: str, sink: Sink) -> None:
        """Attach a sink for notifications from now on."""
        self._attach(turn_id, sink, [])

    def _attach(self, turn_id: str, sink: Sink, replay: list[Notification]) -> None:
        if self._closed is not None:
            sink(self._closed)
            return
        for notification in replay:
            sink(notification)
        if any(n.method == TURN_COMPLETED for n in replay):
            return
        self._sinks.setdefault(turn_id, []).append(sink)

    def unsubscribe(self, turn_id: str, sink: Sink) -> None:
        sinks = self._sinks.get(turn_id)
        if sinks is None:
            return
        if sink in sinks:
            sinks.remove(sink)
        if not sinks:
            del self._sinks[turn_id]

    def subscriber_count(self) -> int:
        """Live sinks over all turns (for leak checks)."""
        return sum(len(group) for group in self._sinks.values())

    def route(self, turn_id: str | None, notification: Notification) -> bool:
        """Deliver a notification; False when it is not turn-scoped or nobody wants it."""
        if turn_id is None:
            return False
        delivered = False
        if self._marks:
            self._log.setdefault(turn_id, []).append(notification)
            delivered = True
        sinks = self._sinks.get(turn_id)
        if notification.method == TURN_COMPLETED:
            sinks = self._sinks.pop(turn_id, None)
        if sinks:
            for sink in list(sinks):
                sink(notification)
            delivered = True
        return delivered

    def close(self, exc: BaseException) -> None:
        """End every subscription with `exc`; later subscriptions get it at once."""
        self._closed = exc
        sinks = [sink for group in self._sinks.values() for sink in group]
        self._sinks.clear()
        self._log.clear()
        for sink in sinks:
            sink(exc)
