"""End-to-end scenarios against a real app-server binary ($CODEX_BIN) and a mock
Responses API, plus a few client behaviours shown with a scripted server
(`fake_app_server.py`). Every scenario runs for both `Codex` and `AsyncCodex`.

This file uses ONLY the public API that our SDK and the official `openai-codex`
SDK share: the conformance run executes it with the official SDK driving our
binary, and our SDK runs it against the official binary. Items are matched by
their wire `type` string, failed turns as `RuntimeError`. Scenarios that need our
SDK's extensions live in `test_sdk_extensions.py`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from app_server_harness import AppServerHarness, ev_created, ev_failed, usage
from scenario_support import KINDS, aw, client, collect, fake_config, gated_message, user_texts

from openai_codex import AsyncCodex, Codex, TransportClosedError
from openai_codex.types import TurnStatus


@pytest.mark.parametrize("kind", KINDS)
def test_simple_turn_streams_deltas_and_reports_usage(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        with AppServerHarness(tmp_path) as harness:
            harness.responses.enqueue_assistant_message(
                "Hello there.",
                response_id="r1",
                deltas=["Hel", "lo ", "there."],
                tokens=usage(input_tokens=120, output_tokens=7, cached=20),
            )
            harness.responses.enqueue_assistant_message("Second.", response_id="r2")
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start())
                handle = await aw(thread.turn("Say hello."))
                events = await collect(handle.stream())
                result = await aw(thread.run("Again."))

        deltas = [e.payload.delta for e in events if e.method == "item/agentMessage/delta"]
        assert "".join(deltas) == "Hello there."
        assert events[-1].method == "turn/completed"
        assert result.status == TurnStatus.completed
        assert result.final_response == "Second."
        assert user_texts(result.items) == ["Again."]
        assert result.usage is not None
        assert result.usage.last.input_tokens == 10
        assert result.usage.total.input_tokens >= 130  # cumulative over the thread
        assert result.started_at is not None and result.completed_at is not None
        assert result.duration_ms is not None

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_failed_turn_raises_with_server_message(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        with AppServerHarness(tmp_path) as harness:
            harness.responses.enqueue_sse(
                [ev_created("bad"), ev_failed("bad", "the mock model exploded")]
            )
            harness.responses.enqueue_assistant_message("recovered", response_id="ok")
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start())
                # The official SDK raises a plain RuntimeError; ours a subclass of it.
                with pytest.raises(RuntimeError, match="the mock model exploded"):
                    await aw(thread.run("fail please"))
                recovered = await aw(thread.run("try again"))
        assert recovered.final_response == "recovered"

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_two_concurrent_turns_on_two_threads(kind: str, tmp_path: Path) -> None:
    with AppServerHarness(tmp_path) as harness:
        gates = []
        for name in ("one", "two"):
            events, gate = gated_message(f"answer {name}", name)
            harness.responses.enqueue_sse(events, gate=gate)
            gates.append(gate)

        def release_when_both_streaming() -> None:
            # Both model streams are open at once before either may finish.
            for gate in gates:
                gate.wait_reached(timeout=30)
            for gate in gates:
                gate.release()

        releaser = threading.Thread(target=release_when_both_streaming, daemon=True)
        releaser.start()
        prompts = ["prompt for A", "prompt for B"]
        if kind == "sync":
            with Codex(config=harness.app_server_config()) as codex:
                threads = [codex.thread_start(), codex.thread_start()]
                with concurrent.futures.ThreadPoolExecutor(2) as pool:
                    futures = [pool.submit(t.run, p) for t, p in zip(threads, prompts, strict=True)]
                    results = [f.result(timeout=60) for f in futures]
        else:

            async def scenario() -> list[Any]:
                async with AsyncCodex(config=harness.app_server_config()) as codex:
                    pair = [await codex.thread_start(), await codex.thread_start()]
                    return list(
                        await asyncio.gather(
                            *(t.run(p) for t, p in zip(pair, prompts, strict=True))
                        )
                    )

            results = asyncio.run(scenario())
        releaser.join(timeout=5)

    assert [user_texts(r.items) for r in results] == [["prompt for A"], ["prompt for B"]]
    assert {r.final_response for r in results} == {"answer one", "answer two"}
    assert results[0].id != results[1].id


@pytest.mark.parametrize("kind", KINDS)
def test_interrupt_ends_turn_as_interrupted(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        with AppServerHarness(tmp_path) as harness:
            events, gate = gated_message("never finished", "slow")
            harness.responses.enqueue_sse(events, gate=gate)
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start())
                handle = await aw(thread.turn("long task"))
                await asyncio.to_thread(gate.wait_reached, 30)
                await aw(handle.interrupt())
                result = await aw(handle.run())
                gate.release()
        assert result.status == TurnStatus.interrupted
        assert result.final_response is None

    asyncio.run(scenario())


@pytest.mark.parametrize("kind", KINDS)
def test_steer_adds_input_to_running_turn(kind: str, tmp_path: Path) -> None:
    async def scenario() -> None:
        with AppServerHarness(tmp_path) as harness:
            events, gate = gated_message("first part", "steer-1")
            harness.responses.enqueue_sse(events, gate=gate)
            harness.responses.enqueue_assistant_message("steered answer", response_id="steer-2")
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start())
                handle = await aw(thread.turn("start working"))
                await asyncio.to_thread(gate.wait_reached, 30)
                steered = await aw(handle.steer("also mention bananas"))
                gate.release()
                result = await aw(handle.run())
            requests = harness.responses.requests
        assert steered.turn_id == handle.id
        assert result.status == TurnStatus.completed
        assert result.final_response == "steered answer"
        assert "also mention bananas" in json.dumps(requests[-1].json())

    asyncio.run(scenario())


# SDK behaviour both SDKs share, shown with a scripted server (fake_app_server.py).


@pytest.mark.parametrize("kind", KINDS)
def test_notifications_before_turn_start_response_are_kept(kind: str) -> None:
    async def scenario() -> Any:
        async with client(kind, fake_config("early")) as codex:
            thread = await aw(codex.thread_start())
            return await aw(thread.run("anything"))

    result = asyncio.run(scenario())
    assert result.final_response == "early answer"
    assert result.usage is not None and result.usage.last.total_tokens == 3


@pytest.mark.parametrize("kind", KINDS)
def test_transport_closed_error_mentions_server_stderr(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("crash")) as codex:
            await aw(codex.thread_start())

    with pytest.raises(TransportClosedError, match="simulated crash in fake app-server"):
        asyncio.run(scenario())
