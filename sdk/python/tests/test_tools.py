"""Python functions as client-defined tools (`thread_start(tools=[...])`): the specs sent
in `dynamicTools`, and the answers to `item/tool/call` (results, images, exceptions, bad
arguments, unknown tools) for both clients, against the scripted fake server; plus unit
tests of the schema and docstring reading. End-to-end runs against real binaries are in
`e2e/test_tools_e2e.py`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any, Literal

import pytest
from pydantic import BaseModel
from scenario_support import KINDS, aw, client, fake_config

from openai_codex import ImageInput, Tool, tool
from openai_codex._tool_schema import parse_docstring
from openai_codex._tools import Toolset


class Forecast(BaseModel):
    city: str
    high: int


WORKER_THREADS: list[int] = []


def get_weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        city: The city to look up.
        unit: Temperature unit,
            Celsius or Fahrenheit.
    """
    WORKER_THREADS.append(threading.get_ident())
    return f"Sunny in {city} ({unit})"


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def forecast(city: str) -> Forecast:
    """Tomorrow's forecast."""
    return Forecast(city=city, high=21)


def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(reason)


def chart() -> list[object]:
    """A caption and a chart."""
    return ["the chart:", ImageInput("data:image/png;base64,AAAA")]


CALLS = [
    {"tool": "get_weather", "arguments": {"city": "Paris"}},
    {"tool": "add", "arguments": {"a": 2, "b": 3}},
    {"tool": "forecast", "arguments": {"city": "Oslo"}},
    {"tool": "explode", "arguments": {"reason": "no network"}},
    {"tool": "add", "arguments": {"a": "two", "b": 3}},
    {"tool": "add", "arguments": {"a": 1, "b": 2, "c": 3}},
    {"tool": "missing", "arguments": {}},
    {"tool": "chart", "arguments": None},
]


def text(message: str, success: bool = True) -> dict[str, Any]:
    return {"contentItems": [{"type": "inputText", "text": message}], "success": success}


EXPECTED_REPLIES = [
    text("Sunny in Paris (c)"),
    text("5"),
    text('{"city":"Oslo","high":21}'),
    text("Tool 'explode' failed: RuntimeError: no network", success=False),
    text(
        "Invalid arguments for tool 'add': a: Input should be a valid integer, "
        "unable to parse string as an integer",
        success=False,
    ),
    text("Invalid arguments for tool 'add': c: Extra inputs are not permitted", success=False),
    text("No tool named missing is registered for this thread", success=False),
    {
        "contentItems": [
            {"type": "inputText", "text": "the chart:"},
            {"type": "inputImage", "imageUrl": "data:image/png;base64,AAAA"},
        ],
        "success": True,
    },
]


@pytest.mark.parametrize("kind", KINDS)
def test_function_tools_are_advertised_and_answered(kind: str) -> None:
    WORKER_THREADS.clear()

    async def scenario() -> Any:
        config = fake_config("tools", json.dumps(CALLS))
        async with client(kind, config) as codex:
            thread = await aw(
                codex.thread_start(tools=[get_weather, add, forecast, explode, chart])
            )
            return await aw(thread.run("use the tools"))

    result = asyncio.run(scenario())
    seen = json.loads(result.final_response)
    assert seen["capabilities"]["experimentalApi"] is True
    specs = seen["thread/start"]["dynamicTools"]
    assert [spec["name"] for spec in specs] == [
        "get_weather",
        "add",
        "forecast",
        "explode",
        "chart",
    ]
    assert specs[0] == {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city.",
        "inputSchema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "city": {"type": "string", "description": "The city to look up."},
                "unit": {
                    "type": "string",
                    "enum": ["c", "f"],
                    "default": "c",
                    "description": "Temperature unit, Celsius or Fahrenheit.",
                },
            },
            "required": ["city"],
        },
    }
    assert seen["replies"] == EXPECTED_REPLIES
    # Plain functions never run on the thread that reads the server's messages.
    assert WORKER_THREADS and threading.main_thread().ident not in WORKER_THREADS


@pytest.mark.parametrize("kind", KINDS)
def test_resumed_thread_answers_with_the_tools_passed_again(kind: str) -> None:
    calls = [{"tool": "add", "arguments": {"a": 40, "b": 2}}]

    async def scenario() -> Any:
        async with client(kind, fake_config("tools", json.dumps(calls))) as codex:
            thread = await aw(codex.thread_resume("thr_fake", tools=[add]))
            return await aw(thread.run("again"))

    seen = json.loads(asyncio.run(scenario()).final_response)
    assert seen["thread/resume"] == {}  # the server keeps the specs; nothing is resent
    assert seen["replies"] == [text("42")]


@pytest.mark.parametrize("kind", KINDS)
def test_tools_need_the_experimental_api(kind: str) -> None:
    async def scenario() -> None:
        config = fake_config("tools", "[]", experimental_api=False)
        async with client(kind, config) as codex:
            await aw(codex.thread_start(tools=[add]))

    with pytest.raises(ValueError, match="experimental_api=True"):
        asyncio.run(scenario())


def test_tool_overrides_name_and_description_and_stays_callable() -> None:
    @tool(name="sum_two", description="Sum.")
    def summed(a: int, b: int = 1) -> int:
        return a + b

    assert isinstance(summed, Tool)
    assert summed(2) == 3
    assert summed.spec()["name"] == "sum_two" and summed.spec()["description"] == "Sum."
    assert Toolset([summed, add]).specs()[1]["name"] == "add"


def test_tool_parameters_may_shadow_pydantic_names() -> None:
    def lookup(json: str, schema: int = 0) -> str:
        return f"{json}:{schema}"

    made = Tool(lookup)
    assert set(made.input_schema["properties"]) == {"json", "schema"}  # type: ignore[arg-type]
    assert made.invoke({"json": "x", "schema": 2}) == "x:2"


def test_unusable_functions_are_rejected_when_passed() -> None:
    with pytest.raises(ValueError, match="tool name '<lambda>'"):
        Tool(lambda: None)

    def variadic(*items: int) -> int:
        return len(items)

    with pytest.raises(TypeError, match="must be passable by name"):
        Tool(variadic)
    with pytest.raises(ValueError, match="two tools are named 'add'"):
        Toolset([add, tool(add)])


def test_docstring_styles() -> None:
    google = """Find files.

    Longer text.

    Args:
        pattern (str): Glob pattern,
            relative to the root.
        limit: At most this many.

    Returns:
        The paths.
    """
    assert parse_docstring(google) == (
        "Find files.\n\nLonger text.",
        {"pattern": "Glob pattern, relative to the root.", "limit": "At most this many."},
    )
    numpy = "Find files.\n\nParameters\n----------\npattern : str\n    Glob pattern.\n"
    assert parse_docstring(numpy) == ("Find files.", {"pattern": "Glob pattern."})
    rest = "Find files.\n\n:param pattern: Glob pattern.\n:returns: paths\n"
    assert parse_docstring(rest) == ("Find files.", {"pattern": "Glob pattern."})
