"""Scenarios for what our SDK offers beyond the public API it shares with the
official `openai-codex` SDK. Every scenario runs for both `Codex` and `AsyncCodex`.

- approvals: `approval_handler` (sync, coroutine, deferred future), the
  `ask_user` approval mode and `approval_default` (the official SDK has no public
  way to receive or decide approvals; it accepts them all internally);
- `TurnFailedError` with the server's `TurnError` (the official SDK raises a bare
  `RuntimeError`);
- unknown server requests answered with JSON-RPC -32601 (the official SDK
  replies with an empty result);
- `TransportClosedError.stderr_tail` / `.returncode` and
  `CodexBinaryNotFoundError` (absent from the official SDK).

`test_scenarios.py` holds the scenarios both SDKs must pass; the conformance run
executes only that one under the official SDK.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from app_server_harness import (
    AppServerHarness,
    ev_completed,
    ev_created,
    ev_failed,
    ev_function_call,
)
from scenario_support import KINDS, aw, client, fake_config

from openai_codex import (
    ApprovalMode,
    CodexBinaryNotFoundError,
    CodexConfig,
    TransportClosedError,
    TurnFailedError,
)
from openai_codex.types import CommandExecutionThreadItem, TurnStatus


@pytest.mark.parametrize("kind", KINDS)
def test_failed_turn_raises_turn_failed_error_with_details(kind: str, tmp_path: Path) -> None:
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
                assert "the mock model exploded" in info.value.error.message
                assert info.value.turn_id
                recovered = await aw(thread.run("try again"))
        assert recovered.status == TurnStatus.completed
        assert recovered.final_response == "recovered"

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
    assert "codex_cli_bin package (not installed)" in message
    assert "codex on PATH" in message
    assert len(info.value.tried) == 5
