"""Python function tools end to end: a real app-server binary ($CODEX_BIN), the mock
model asking for the tool, our SDK running it and the answer reaching the model.

Not part of the unit run (`tests/`): they need a real binary. `scripts/test` runs them
against ours, `scripts/conformance` against the official 0.163 one:
`CODEX_BIN=target/debug/codex python -m pytest -c pyproject.toml e2e/test_tools_e2e.py`.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from app_server_harness import AppServerHarness, ev_completed, ev_created, ev_function_call
from scenario_support import KINDS, aw, client

from openai_codex.types import DynamicToolCallThreadItem


def get_weather(city: str, unit: str = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city to look up.
        unit: Temperature unit.
    """
    return f"Sunny in {city} ({unit})"


async def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


def _call_then_answer(harness: AppServerHarness, tool: str, arguments: dict[str, Any]) -> None:
    harness.responses.enqueue_sse(
        [ev_created("call"), ev_function_call("call_1", tool, arguments), ev_completed("call")]
    )
    harness.responses.enqueue_assistant_message("Done.", response_id="answer")


def _tool_output(request: Any) -> Any:
    """The function_call_output the runtime sent back to the model."""
    outputs = [i for i in request.json()["input"] if i.get("type") == "function_call_output"]
    assert len(outputs) == 1, outputs
    return outputs[0]


def _tool_items(result: Any) -> list[DynamicToolCallThreadItem]:
    items = [item.root for item in result.items]
    return [item for item in items if isinstance(item, DynamicToolCallThreadItem)]


@pytest.mark.parametrize("kind", KINDS)
def test_function_tool_result_reaches_the_model(kind: str, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, list[Any]]:
        with AppServerHarness(tmp_path) as harness:
            _call_then_answer(harness, "get_weather", {"city": "Paris"})
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start(tools=[get_weather]))
                result = await aw(thread.run("Weather in Paris?"))
            return result, harness.responses.requests

    result, requests = asyncio.run(scenario())
    advertised = json.dumps(requests[0].json()["tools"])
    assert "get_weather" in advertised and "The city to look up." in advertised
    output = _tool_output(requests[1])
    assert output["call_id"] == "call_1"
    assert "Sunny in Paris (c)" in json.dumps(output["output"])
    assert result.final_response == "Done."
    [item] = _tool_items(result)
    assert (item.tool, item.success, item.status.value) == ("get_weather", True, "completed")


@pytest.mark.parametrize("kind", KINDS)
def test_function_tool_exception_is_a_failed_call(kind: str, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, list[Any]]:
        with AppServerHarness(tmp_path) as harness:
            _call_then_answer(harness, "divide", {"a": 1, "b": 0})
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start(tools=[divide]))
                result = await aw(thread.run("Divide 1 by 0."))
            return result, harness.responses.requests

    result, requests = asyncio.run(scenario())
    assert "ZeroDivisionError" in json.dumps(_tool_output(requests[1])["output"])
    [item] = _tool_items(result)
    assert (item.success, item.status.value) == (False, "failed")
