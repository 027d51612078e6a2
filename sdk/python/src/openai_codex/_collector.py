"""Builds a `TurnResult` from a turn's notifications (sans-I/O, shared by both clients).

Rules (protocol-v2 §6): items are every valid `item/completed` of the turn in
arrival order; usage is the last `thread/tokenUsage/updated` of the turn;
`final_response` is the last `final_answer` agent message, else the last agent
message without a phase; the turn metadata comes from `turn/completed`. A
failed turn raises `TurnFailedError` with the server's message; a stream that
ends without `turn/completed` raises `TurnIncompleteError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import TurnFailedError, TurnIncompleteError
from .generated.v2_all import (
    AgentMessageThreadItem,
    ItemCompletedNotification,
    ThreadItem,
    ThreadTokenUsage,
    ThreadTokenUsageUpdatedNotification,
    TurnCompletedNotification,
    TurnError,
    TurnStatus,
)
from .models import Notification


@dataclass(slots=True)
class TurnResult:
    """Everything a completed turn produced."""

    id: str
    status: TurnStatus
    error: TurnError | None
    started_at: int | None
    completed_at: int | None
    duration_ms: int | None
    final_response: str | None
    items: list[ThreadItem]
    usage: ThreadTokenUsage | None


def is_turn_completed(notification: Notification, turn_id: str) -> bool:
    """True for the `turn/completed` that ends `turn_id`'s stream."""
    payload = notification.payload
    return (
        notification.method == "turn/completed"
        and isinstance(payload, TurnCompletedNotification)
        and payload.turn.id == turn_id
    )


def final_response(items: list[ThreadItem]) -> str | None:
    """Text of the final answer among `items` (see module docs)."""
    fallback: str | None = None
    for item in reversed(items):
        message = item.root
        if not isinstance(message, AgentMessageThreadItem):
            continue
        phase = message.phase.value if message.phase is not None else None
        if phase == "final_answer":
            return message.text
        if phase is None and fallback is None:
            fallback = message.text
    return fallback


class TurnCollector:
    """Feed notifications in order; `result()` once `feed` has returned True."""

    def __init__(self, turn_id: str) -> None:
        self.turn_id = turn_id
        self.items: list[ThreadItem] = []
        self.usage: ThreadTokenUsage | None = None
        self.completed: TurnCompletedNotification | None = None

    def feed(self, notification: Notification) -> bool:
        """Record one notification; True when it completed the turn."""
        if self.completed is not None:
            return True
        payload = notification.payload
        if isinstance(payload, ItemCompletedNotification) and payload.turn_id == self.turn_id:
            self.items.append(payload.item)
        elif (
            isinstance(payload, ThreadTokenUsageUpdatedNotification)
            and payload.turn_id == self.turn_id
        ):
            self.usage = payload.token_usage
        elif is_turn_completed(notification, self.turn_id):
            assert isinstance(payload, TurnCompletedNotification)
            self.completed = payload
            return True
        return False

    def result(self) -> TurnResult:
        """The collected result; raises for failed or incomplete turns."""
        if self.completed is None:
            raise TurnIncompleteError("turn completed event not received")
        turn = self.completed.turn
        if turn.status == TurnStatus.failed:
            message = turn.error.message if turn.error is not None else ""
            raise TurnFailedError(
                message or "turn failed with status failed", turn_id=turn.id, error=turn.error
            )
        return TurnResult(
            id=turn.id,
            status=turn.status,
            error=turn.error,
            started_at=turn.started_at,
            completed_at=turn.completed_at,
            duration_ms=turn.duration_ms,
            final_response=final_response(self.items),
            items=list(self.items),
            usage=self.usage,
        )
