"""End-to-end scenarios against a real app-server binary ($CODEX_BIN) and a mock
Responses API. Every scenario runs for both `Codex` and `AsyncCodex`.

Scenarios are written once as coroutines; `aw()` awaits async results and passes
sync ones through, so the sync client runs the same steps (blocking).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import json
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from app_server_harness import (
    AppServerHarness,
    Gate,
    assistant_message_events,
    ev_completed,
    ev_created,
    ev_failed,
    ev_function_call,
    ev_message_added,
    ev_text_delta,
    usage,
)

from openai_codex import (
    ApprovalMode,
    AsyncCodex,
    Codex,
    CodexBinaryNotFoundError,
    CodexConfig,
    TransportClosedError,
    TurnFailedError,
)
from openai_codex.types import (
    AgentMessageDeltaNotification,
    CommandExecutionThreadItem,
    TurnStatus,
    UserMessageThreadItem,
)

KINDS = ["sync", "async"]
FAKE_SERVER = Path(__file__).with_name("fake_app_server.py")


async def aw(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def collect(stream: Any) -> list[Any]:
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


@asynccontextmanager
async def client(kind: str, config: CodexConfig, **kwargs: Any) -> AsyncIterator[Any]:
    if kind == "sync":
        with Codex(config=config, **kwargs) as codex:
            yield codex
    else:
        async with AsyncCodex(config=config, **kwargs) as codex:
            yield codex


def fake_config(scenario: str) -> CodexConfig:
    return CodexConfig(launch_args_override=(sys.executable, str(FAKE_SERVER), scenario))


def user_texts(items: list[Any]) -> list[str]:
    return [
        part.root.text
        for item in items
        if isinstance(item.root, UserMessageThreadItem)
        for part in item.root.content
        if part.root.type == "text"
    ]


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

        deltas = [
            e.payload.delta for e in events if isinstance(e.payload, AgentMessageDeltaNotification)
        ]
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
                with pytest.raises(TurnFailedError, match="the mock model exploded") as info:
                    await aw(thread.run("fail please"))
                assert isinstance(info.value, RuntimeError)
                assert info.value.error is not None
                recovered = await aw(thread.run("try again"))
        assert recovered.final_response == "recovered"

    asyncio.run(scenario())


def _gated_message(text: str, response_id: str) -> tuple[list[dict[str, Any]], Gate]:
    item_id = f"msg_{response_id}"
    events = [
        ev_created(response_id),
        ev_message_added(item_id),
        ev_text_delta(item_id, text),
        *assistant_message_events(text, response_id=response_id)[3:],
    ]
    return events, Gate(hold_after=3)


@pytest.mark.parametrize("kind", KINDS)
def test_two_concurrent_turns_on_two_threads(kind: str, tmp_path: Path) -> None:
    with AppServerHarness(tmp_path) as harness:
        gates = []
        for name in ("one", "two"):
            events, gate = _gated_message(f"answer {name}", name)
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
            events, gate = _gated_message("never finished", "slow")
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
            events, gate = _gated_message("first part", "steer-1")
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


def _approval_script(harness: AppServerHarness) -> None:
    harness.responses.enqueue_sse(
        [
            ev_created("appr-1"),
            ev_function_call(
                "call_appr", "exec_command", {"cmd": "touch approved.txt", "login": False}
            ),
            ev_completed("appr-1"),
        ]
    )
    harness.responses.enqueue_assistant_message("done", response_id="appr-2")


def _command_items(result: Any) -> list[CommandExecutionThreadItem]:
    return [i.root for i in result.items if isinstance(i.root, CommandExecutionThreadItem)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("decision", ["accept", "decline"])
def test_approval_handler_decides(kind: str, decision: str, tmp_path: Path) -> None:
    seen: list[tuple[str, Any]] = []

    def handler(method: str, params: Any) -> Any:
        seen.append((method, params))
        return {"decision": decision}

    async def scenario() -> Any:
        with AppServerHarness(tmp_path) as harness:
            _approval_script(harness)
            config = harness.app_server_config()
            async with client(kind, config, approval_handler=handler) as codex:
                thread = await aw(codex.thread_start(approval_mode=ApprovalMode.ask_user))
                return await aw(thread.run("Create approved.txt"))

    result = asyncio.run(scenario())
    assert [method for method, _ in seen] == ["item/commandExecution/requestApproval"]
    assert seen[0][1]["itemId"] == "call_appr"
    commands = _command_items(result)
    assert len(commands) == 1
    if decision == "decline":
        assert commands[0].status.value == "declined"
    else:
        assert commands[0].status.value != "declined"
    assert result.final_response == "done"


@pytest.mark.parametrize("kind", KINDS)
def test_approval_default_decline_without_handler(kind: str, tmp_path: Path) -> None:
    async def scenario() -> Any:
        with AppServerHarness(tmp_path) as harness:
            _approval_script(harness)
            async with client(
                kind, harness.app_server_config(), approval_default="decline"
            ) as codex:
                thread = await aw(codex.thread_start(approval_mode=ApprovalMode.ask_user))
                return await aw(thread.run("Create approved.txt"))

    result = asyncio.run(scenario())
    assert [c.status.value for c in _command_items(result)] == ["declined"]


@pytest.mark.parametrize("kind", KINDS)
def test_deferred_approval_does_not_block_other_traffic(kind: str, tmp_path: Path) -> None:
    asked = threading.Event()
    answer: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def handler(method: str, params: Any) -> Any:
        asked.set()
        return answer  # completed by the test later

    async def scenario() -> Any:
        with AppServerHarness(tmp_path) as harness:
            _approval_script(harness)
            async with client(kind, harness.app_server_config(), approval_handler=handler) as c:
                thread = await aw(c.thread_start(approval_mode=ApprovalMode.ask_user))
                handle = await aw(thread.turn("Create approved.txt"))
                assert await asyncio.to_thread(asked.wait, 30)
                # While the approval is outstanding, other requests still work.
                models = await aw(c.models())
                named = await aw(thread.set_name("waiting on approval"))
                answer.set_result({"decision": "decline"})
                result = await aw(handle.run())
                return models, named, result

    models, named, result = asyncio.run(scenario())
    assert isinstance(models.data, list)
    assert named.model_dump() == {}
    assert [c.status.value for c in _command_items(result)] == ["declined"]


@pytest.mark.parametrize("kind", KINDS)
def test_async_handler_coroutine_is_awaited(kind: str, tmp_path: Path) -> None:
    async def handler(method: str, params: Any) -> Any:
        await asyncio.sleep(0)
        return {"decision": "decline"}

    async def scenario() -> Any:
        with AppServerHarness(tmp_path) as harness:
            _approval_script(harness)
            async with client(kind, harness.app_server_config(), approval_handler=handler) as c:
                thread = await aw(c.thread_start(approval_mode=ApprovalMode.ask_user))
                return await aw(thread.run("Create approved.txt"))

    result = asyncio.run(scenario())
    assert [c.status.value for c in _command_items(result)] == ["declined"]


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_server_request_gets_method_not_found(kind: str) -> None:
    async def scenario() -> Any:
        async with client(kind, fake_config("unknown")) as codex:
            thread = await aw(codex.thread_start())
            return await aw(thread.run("anything"))

    result = asyncio.run(scenario())
    reply = json.loads(result.final_response)
    assert reply["id"] == 0
    assert "result" not in reply
    assert reply["error"]["code"] == -32601
    assert "x/unknownRequest" in reply["error"]["message"]


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
def test_transport_closed_error_shows_stderr_tail(kind: str) -> None:
    async def scenario() -> None:
        async with client(kind, fake_config("crash")) as codex:
            await aw(codex.thread_start())

    with pytest.raises(TransportClosedError) as info:
        asyncio.run(scenario())
    assert "simulated crash in fake app-server" in info.value.stderr_tail
    assert "simulated crash in fake app-server" in str(info.value)
    assert info.value.returncode == 3


@pytest.mark.parametrize("kind", KINDS)
def test_missing_binary_error_names_every_place_tried(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai_codex._config as config_module

    fake_package = tmp_path / "site-packages" / "openai_codex"
    fake_package.mkdir(parents=True)
    monkeypatch.setattr(config_module, "_PACKAGE_DIR", fake_package)
    monkeypatch.delenv("CODEX_BIN", raising=False)
    empty_path = tmp_path / "empty-bin"
    empty_path.mkdir()
    config = CodexConfig(env={"PATH": str(empty_path)})

    async def scenario() -> None:
        async with client(kind, config):
            pass

    with pytest.raises(CodexBinaryNotFoundError) as info:
        asyncio.run(scenario())
    message = str(info.value)
    assert "$CODEX_BIN" in message
    assert str(fake_package / "bin" / "codex") in message
    assert "Cargo.toml" in message
    assert "codex on PATH" in message
    assert len(info.value.tried) == 4
