"""Per-turn notification routing (sans-I/O; the caller provides locking).

Turn-scoped notifications (those with `turnId` or `turn.id`) go to the sinks
subscribed to that turn. A turn's first notifications can arrive before the
`turn/start` response that tells us its id, so while any `turn/start` is in
flight, notifications for unclaimed turns are buffered and replayed to the
subscriber that claims the id. Once no start is in flight, unclaimed buffers
are dropped (they belong to turns nobody asked for, e.g. compaction turns).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from .models import Notification

# A sink receives notifications, or the exception that ended the connection.
Sink: TypeAlias = Callable[[Notification | BaseException], None]


class TurnRouter:
    """Routes notifications to turn subscribers; holds early notifications."""

    def __init__(self) -> None:
        self._sinks: dict[str, list[Sink]] = {}
        self._early: dict[str, list[Notification]] = {}
        self._starts_in_flight = 0
        self._closed: BaseException | None = None

    def begin_turn_start(self) -> None:
        """Call before sending `turn/start`: buffer unclaimed turn traffic from now on."""
        self._starts_in_flight += 1

    def finish_turn_start(self, turn_id: str | None, sink: Sink | None) -> None:
        """Call after the `turn/start` response (or its failure): claim `turn_id`."""
        if turn_id is not None and sink is not None:
            self.subscribe(turn_id, sink)
        self._starts_in_flight -= 1
        if self._starts_in_flight == 0:
            self._early.clear()

    def subscribe(self, turn_id: str, sink: Sink) -> None:
        """Attach a sink; buffered notifications for the turn are replayed first."""
        if self._closed is not None:
            sink(self._closed)
            return
        for early in self._early.pop(turn_id, []):
            sink(early)
        self._sinks.setdefault(turn_id, []).append(sink)

    def unsubscribe(self, turn_id: str, sink: Sink) -> None:
        sinks = self._sinks.get(turn_id)
        if sinks is None:
            return
        if sink in sinks:
            sinks.remove(sink)
        if not sinks:
            del self._sinks[turn_id]

    def route(self, turn_id: str | None, notification: Notification) -> bool:
        """Deliver a notification; False when it is not turn-scoped or nobody wants it."""
        if turn_id is None:
            return False
        sinks = self._sinks.get(turn_id)
        if sinks:
            for sink in list(sinks):
                sink(notification)
            return True
        if self._starts_in_flight > 0:
            self._early.setdefault(turn_id, []).append(notification)
            return True
        return False

    def close(self, exc: BaseException) -> None:
        """End every subscription with `exc`; later subscriptions get it at once."""
        self._closed = exc
        sinks = [sink for group in self._sinks.values() for sink in group]
        self._sinks.clear()
        self._early.clear()
        for sink in sinks:
            sink(exc)
