"""Unit tests for the shared, I/O-free TurnResult collector and turn router."""

from __future__ import annotations

from typing import Any

import pytest

from openai_codex import TurnFailedError, TurnIncompleteError
from openai_codex._collector import TurnCollector, final_response
from openai_codex._protocol import IncomingNotification, to_notification, turn_id_of
from openai_codex._router import TurnRouter
from openai_codex.models import Notification, UnknownNotification
from openai_codex.types import ThreadItem, TurnStatus

T = "turn-1"


def note(method: str, params: dict[str, Any]) -> Notification:
    return to_notification(IncomingNotification(method, params))


def agent(text: str, phase: str | None = None, turn: str = T, item_id: str = "m") -> Notification:
    item = {"type": "agentMessage", "id": item_id, "text": text, "phase": phase}
    return note(
        "item/completed", {"threadId": "th", "turnId": turn, "completedAtMs": 1, "item": item}
    )


def breakdown(n: int) -> dict[str, int]:
    return {
        "totalTokens": n,
        "inputTokens": n,
        "cachedInputTokens": 0,
        "outputTokens": 0,
        "reasoningOutputTokens": 0,
    }


def token_usage(n: int, turn: str = T) -> Notification:
    return note(
        "thread/tokenUsage/updated",
        {
            "threadId": "th",
            "turnId": turn,
            "tokenUsage": {"total": breakdown(n), "last": breakdown(n)},
        },
    )


def completed(
    status: str = "completed", error: dict[str, Any] | None = None, turn: str = T
) -> Notification:
    body = {
        "id": turn,
        "items": [],
        "itemsView": "notLoaded",
        "status": status,
        "error": error,
        "startedAt": 10,
        "completedAt": 12,
        "durationMs": 2000,
    }
    return note("turn/completed", {"threadId": "th", "turn": body})


def run(notifications: list[Notification]) -> Any:
    collector = TurnCollector(T)
    for n in notifications:
        if collector.feed(n):
            break
    return collector.result()


def test_collects_items_usage_and_metadata() -> None:
    result = run([agent("hi", "final_answer"), token_usage(5), token_usage(9), completed()])
    assert result.id == T
    assert result.status == TurnStatus.completed
    assert (result.started_at, result.completed_at, result.duration_ms) == (10, 12, 2000)
    assert result.final_response == "hi"
    assert len(result.items) == 1
    assert result.usage is not None and result.usage.total.total_tokens == 9


def test_ignores_other_turns_and_events_after_completion() -> None:
    result = run(
        [
            agent("other", turn="turn-2"),
            token_usage(99, turn="turn-2"),
            completed(turn="turn-2"),
            agent("mine"),
            completed(),
            agent("late"),
        ]
    )
    assert result.final_response == "mine"
    assert [i.root.text for i in result.items] == ["mine"]  # type: ignore[union-attr]
    assert result.usage is None


def test_final_response_prefers_final_answer_over_later_unphased() -> None:
    items = [
        agent("answer", "final_answer").payload.item,  # type: ignore[union-attr]
        agent("note", None).payload.item,  # type: ignore[union-attr]
        agent("thinking", "commentary").payload.item,  # type: ignore[union-attr]
    ]
    assert final_response(items) == "answer"


def test_final_response_falls_back_to_last_unphased_and_skips_commentary() -> None:
    items: list[ThreadItem] = [
        agent("first", None).payload.item,  # type: ignore[union-attr]
        agent("second", None).payload.item,  # type: ignore[union-attr]
        agent("aside", "commentary").payload.item,  # type: ignore[union-attr]
    ]
    assert final_response(items) == "second"
    assert final_response(items[2:]) is None


def test_failed_turn_raises_server_message() -> None:
    with pytest.raises(TurnFailedError, match="quota exceeded") as info:
        run([completed("failed", {"message": "quota exceeded"})])
    assert isinstance(info.value, RuntimeError)
    assert info.value.turn_id == T


def test_failed_turn_without_message_uses_generic_text() -> None:
    with pytest.raises(TurnFailedError, match="turn failed with status failed"):
        run([completed("failed", None)])


def test_interrupted_turn_returns_result() -> None:
    result = run([completed("interrupted")])
    assert result.status == TurnStatus.interrupted
    assert result.final_response is None


def test_stream_without_completion_raises() -> None:
    with pytest.raises(TurnIncompleteError, match="turn completed event not received"):
        run([agent("partial")])


def test_invalid_item_payload_is_unknown_and_dropped() -> None:
    broken = note("item/completed", {"threadId": "th", "turnId": T, "item": {"type": "nope"}})
    assert isinstance(broken.payload, UnknownNotification)
    assert run([broken, completed()]).items == []


def test_turn_id_routing_keys() -> None:
    assert turn_id_of({"turnId": "a"}) == "a"
    assert turn_id_of({"turn": {"id": "b"}}) == "b"
    assert turn_id_of({"threadId": "x"}) is None
    assert turn_id_of(None) is None


def test_router_buffers_until_claimed_while_start_in_flight() -> None:
    router = TurnRouter()
    got: list[Any] = []
    mark = router.begin_turn_start()
    early = agent("early")
    assert router.route(T, early)
    router.finish_turn_start(mark, T, got.append)
    later = completed()
    router.route(T, later)
    assert got == [early, later]


def test_router_drops_unclaimed_when_no_start_in_flight() -> None:
    router = TurnRouter()
    got: list[Any] = []
    mark = router.begin_turn_start()
    router.route("turn-other", agent("x", turn="turn-other"))
    router.finish_turn_start(mark, T, got.append)
    router.subscribe("turn-other", got.append)
    assert got == []  # the buffer was pruned when no start remained in flight
    assert not router.route("turn-other-2", agent("y", turn="turn-other-2"))


def test_router_close_fails_subscribers_and_late_subscribers() -> None:
    router = TurnRouter()
    got: list[Any] = []
    router.subscribe(T, got.append)
    error = RuntimeError("gone")
    router.close(error)
    router.subscribe("turn-2", got.append)
    assert got == [error, error]


def test_router_joined_turn_replays_from_each_start() -> None:
    router = TurnRouter()
    first: list[Any] = []
    second: list[Any] = []
    before = agent("before the second start")
    first_mark = router.begin_turn_start()
    router.route(T, before)
    router.finish_turn_start(first_mark, T, first.append)
    second_mark = router.begin_turn_start()
    during = agent("during the second start")
    done = completed()
    router.route(T, during)
    router.route(T, done)  # the turn completes before the second response
    router.finish_turn_start(second_mark, T, second.append)
    assert first == [before, during, done]
    assert second == [during, done]
    assert router.subscriber_count() == 0  # completion released every sink


def test_router_releases_sinks_after_turn_completed() -> None:
    router = TurnRouter()
    got: list[Any] = []
    router.subscribe(T, got.append)
    router.route(T, completed())
    assert router.subscriber_count() == 0
    assert not router.route(T, agent("late"))
