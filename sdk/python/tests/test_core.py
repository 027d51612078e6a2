"""Unit tests of the sans-I/O connection core: no process, no threads, no event loop."""

from __future__ import annotations

import concurrent.futures
import json
from typing import Any

import pytest

from openai_codex import InvalidRequestError, TransportClosedError
from openai_codex._core import ConnectionCore, IgnoredLine
from openai_codex._protocol import ServerRequest


def _future() -> concurrent.futures.Future[Any]:
    return concurrent.futures.Future()


def test_request_line_and_its_response_settle_the_waiter() -> None:
    core = ConnectionCore()
    first, second = _future(), _future()
    first_id, line = core.request("thread/start", {"cwd": "/w"}, first)
    second_id, _ = core.request("model/list", None, second)
    assert json.loads(line) == {"id": first_id, "method": "thread/start", "params": {"cwd": "/w"}}
    assert first_id != second_id
    # Responses may arrive in any order.
    assert core.receive(json.dumps({"id": second_id, "result": {"data": []}}).encode()) is None
    error = {"id": first_id, "error": {"code": -32600, "message": "bad"}}
    assert core.receive(json.dumps(error).encode()) is None
    assert second.result(0) == {"data": []}
    with pytest.raises(InvalidRequestError, match="bad"):
        first.result(0)
    assert core.pending_count() == 0


def test_server_requests_and_bad_lines_are_left_to_the_caller() -> None:
    core = ConnectionCore()
    effect = core.receive(b'{"id":0,"method":"item/tool/call","params":{"tool":"t"}}')
    assert effect == ServerRequest(0, "item/tool/call", {"tool": "t"})
    ignored = core.receive(b"not json")
    assert isinstance(ignored, IgnoredLine) and "not json" in ignored.note
    assert core.receive(b"\n") is None


def test_turn_notifications_reach_the_turn_subscriber_only() -> None:
    core = ConnectionCore()
    got: list[Any] = []
    core.subscribe("turn-1", got.append)
    for turn in ("turn-1", "turn-2"):
        params = {"threadId": "t", "turnId": turn, "itemId": "i", "delta": turn}
        core.receive(json.dumps({"method": "item/agentMessage/delta", "params": params}).encode())
    assert [n.payload.delta for n in got] == ["turn-1"]


def test_close_fails_pending_requests_subscribers_and_later_requests() -> None:
    core = ConnectionCore()
    pending = _future()
    core.request("thread/start", None, pending)
    got: list[Any] = []
    core.subscribe("turn-1", got.append)
    error = TransportClosedError("gone")
    core.close(error)
    assert pending.exception(0) is error
    assert got == [error]
    with pytest.raises(TransportClosedError, match="gone"):
        core.request("thread/start", None, _future())


def test_forgotten_request_ignores_its_late_response() -> None:
    core = ConnectionCore()
    waiter = _future()
    request_id, _ = core.request("thread/start", None, waiter)
    core.forget(request_id)
    assert core.receive(json.dumps({"id": request_id, "result": {}}).encode()) is None
    assert not waiter.done()
