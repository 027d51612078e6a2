"""Turn-stream lifecycle, approval replies and startup edge cases, against the
scripted fake server (`fake_app_server.py`). Every scenario that applies to both
clients runs for `Codex` and `AsyncCodex`; every wait is bounded by a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import io
import json
import sys
import threading
from typing import Any

import pytest
from scenario_support import KINDS, aw, client, collect, fake_config

import openai_codex._async_client as async_client_module
from openai_codex import AsyncCodex, Codex, CodexConfig, TransportClosedError
from openai_codex._transport import SubprocessTransport
from openai_codex.types import TurnStatus

TIMEOUT_S = 20.0


def bounded(coro: Any) -> Any:
    """Run a scenario; a hang fails the test instead of stalling the suite."""

    async def runner() -> Any:
        return await asyncio.wait_for(coro, TIMEOUT_S)

    return asyncio.run(runner())


async def first_event(handle: Any) -> tuple[Any, Any]:
    stream = handle.stream()
    if hasattr(stream, "__anext__"):
        return stream, await stream.__anext__()
    return stream, await asyncio.to_thread(next, stream)


async def close_stream(stream: Any) -> None:
    if hasattr(stream, "aclose"):
        await stream.aclose()
    else:
        stream.close()


async def run_handle(handle: Any) -> Any:
    """`handle.run()`; the sync one runs in a worker thread so the timeout holds."""
    if asyncio.iscoroutinefunction(handle.run):
        return await handle.run()
    return await asyncio.to_thread(handle.run)


@pytest.mark.parametrize("kind", KINDS)
def test_second_run_of_a_handle_raises_instead_of_hanging(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("early")) as codex:
            thread = await aw(codex.thread_start())
            handle = await aw(thread.turn("hi"))
            assert (await run_handle(handle)).status == TurnStatus.completed
            with pytest.raises(TransportClosedError, match="Turn subscription closed"):
                await run_handle(handle)
            with pytest.raises(TransportClosedError, match="Turn subscription closed"):
                await collect(handle.stream())

    bounded(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_run_after_breaking_out_of_stream_raises(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("early")) as codex:
            thread = await aw(codex.thread_start())
            handle = await aw(thread.turn("hi"))
            stream, event = await first_event(handle)
            assert event.method == "turn/started"
            await close_stream(stream)
            with pytest.raises(TransportClosedError, match="Turn subscription closed"):
                await run_handle(handle)

    bounded(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_turn_completed_ends_the_stream(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("badcompleted")) as codex:
            thread = await aw(codex.thread_start())
            handle = await aw(thread.turn("hi"))
            stream, event = await first_event(handle)
            assert event.method == "turn/completed"  # yielded although its payload is invalid
            with pytest.raises(TransportClosedError, match="Turn is no longer streaming"):
                await collect(stream)
            with pytest.raises(TransportClosedError, match="Turn is no longer streaming"):
                await aw(thread.run("again"))

    bounded(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_joining_an_active_turn_streams_it_to_both_handles(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("join")) as codex:
            thread = await aw(codex.thread_start())
            first = await aw(thread.turn("a"))
            stream, event = await first_event(first)
            assert event.method == "turn/started"
            second = await aw(thread.turn("b"))
            assert second.id == first.id
            rest = [event.method for event in await collect(stream)]
            assert rest[-1] == "turn/completed"
            result = await run_handle(second)
            assert result.status == TurnStatus.completed
            assert result.final_response == "joined by 2 starts"

    bounded(scenario())


def test_concurrent_sync_turn_starts_both_complete() -> None:
    with Codex(config=fake_config("join")) as codex:
        thread = codex.thread_start()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            handles = list(pool.map(lambda text: thread.turn(text), ["a", "b"]))
            results = [f.result(TIMEOUT_S) for f in [pool.submit(h.run) for h in handles]]
    assert [r.status for r in results] == [TurnStatus.completed] * 2
    assert {r.final_response for r in results} == {"joined by 2 starts"}


def test_concurrent_async_turn_starts_both_complete() -> None:
    async def scenario() -> list[Any]:
        async with AsyncCodex(config=fake_config("join")) as codex:
            thread = await codex.thread_start()
            handles = await asyncio.gather(thread.turn("a"), thread.turn("b"))
            return list(await asyncio.gather(*(h.run() for h in handles)))

    results = bounded(scenario())
    assert [r.final_response for r in results] == ["joined by 2 starts"] * 2


def _cancelled_future(method: str, params: Any) -> Any:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    future.cancel()
    return future


async def _cancelled_coroutine(method: str, params: Any) -> Any:
    raise asyncio.CancelledError


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("handler", [_cancelled_future, _cancelled_coroutine])
def test_cancelled_deferred_approval_sends_the_default(kind: str, handler: Any) -> None:
    async def scenario() -> Any:
        async with client(
            kind, fake_config("approval"), approval_handler=handler, approval_default="decline"
        ) as codex:
            thread = await aw(codex.thread_start())
            return await aw(thread.run("x"))

    result = bounded(scenario())
    assert json.loads(result.final_response) == {"id": 0, "result": {"decision": "decline"}}


@pytest.mark.parametrize("kind", KINDS)
def test_unstreamed_handles_release_their_subscription(kind: str) -> None:
    async def scenario() -> tuple[int, int, int]:
        async with client(kind, fake_config("join")) as codex:
            thread = await aw(codex.thread_start())
            handle = await aw(thread.turn("a"))  # the turn stays active
            conn = codex._conn
            held = conn.subscriber_count()
            del handle
            gc.collect()
            dropped = conn.subscriber_count()
            joined = await aw(thread.turn("b"))  # completes the turn; never streamed
            # The fake answers this only after sending the turn's events, so they
            # have all been routed once its (error) reply is back.
            with pytest.raises(Exception, match="unsupported model/list"):
                await aw(codex.models())
            after_completion = conn.subscriber_count()
            del joined
            return held, dropped, after_completion

    assert bounded(scenario()) == (1, 0, 0)


def test_stdout_pipe_is_buffered() -> None:
    code = "import sys; sys.stdout.write('x' * 1_000_000 + '\\n'); sys.stdout.flush()"
    transport = SubprocessTransport([sys.executable, "-c", code], cwd=None, env={})
    try:
        assert isinstance(transport._stdout, io.BufferedReader)
        assert len(transport.read_line()) == 1_000_001
    finally:
        transport.close()


@pytest.mark.parametrize("kind", KINDS)
def test_missing_launch_override_raises_file_not_found(kind: str) -> None:
    config = CodexConfig(launch_args_override=("/nonexistent/codex-binary", "app-server"))

    async def scenario() -> None:
        async with client(kind, config):
            pass

    with pytest.raises(FileNotFoundError):
        bounded(scenario())


def test_async_close_during_initialize_stops_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    initializing = threading.Event()
    original = async_client_module.AsyncConnection.request

    async def watched(self: Any, method: str, params: Any) -> Any:
        if method == "initialize":
            initializing.set()
        return await original(self, method, params)

    monkeypatch.setattr(async_client_module.AsyncConnection, "request", watched)

    async def scenario() -> None:
        codex = AsyncCodex(config=fake_config("hanginit"))
        starting = asyncio.ensure_future(codex.__aenter__())
        assert await asyncio.to_thread(initializing.wait, TIMEOUT_S)
        conn = codex._opening
        assert conn is not None
        await codex.close()
        with pytest.raises(TransportClosedError):
            await starting
        assert codex._conn is None
        assert conn._transport._proc.returncode is not None
        with pytest.raises(RuntimeError, match="not started"):
            _ = codex.metadata

    bounded(scenario())
