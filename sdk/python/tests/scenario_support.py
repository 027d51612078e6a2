"""Helpers for the end-to-end scenario tests, written against the public API that
our SDK and the official `openai-codex` SDK share (the conformance run imports
this module under the official SDK, so nothing here may use our extensions).

Scenarios are written once as coroutines; `aw()` awaits async results and passes
sync ones through, so the sync client runs the same steps (blocking).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from app_server_harness import (
    Gate,
    assistant_message_events,
    ev_created,
    ev_message_added,
    ev_text_delta,
)

from openai_codex import AsyncCodex, Codex, CodexConfig

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
    """A started `Codex` or `AsyncCodex`; `kwargs` are for our SDK's extensions only."""
    if kind == "sync":
        with Codex(config=config, **kwargs) as codex:
            yield codex
    else:
        async with AsyncCodex(config=config, **kwargs) as codex:
            yield codex


def fake_config(scenario: str, *args: str, experimental_api: bool = True) -> CodexConfig:
    """Launches `fake_app_server.py <scenario> [args]` instead of a real binary."""
    return CodexConfig(
        launch_args_override=(sys.executable, str(FAKE_SERVER), scenario, *args),
        experimental_api=experimental_api,
    )


def user_texts(items: list[Any]) -> list[str]:
    """Text parts of the user-message items (matched by wire type, not by class)."""
    return [
        part.root.text
        for item in items
        if item.root.type == "userMessage"
        for part in item.root.content
        if part.root.type == "text"
    ]


def gated_message(text: str, response_id: str) -> tuple[list[dict[str, Any]], Gate]:
    """An assistant-message SSE script that stops after its first delta until released."""
    item_id = f"msg_{response_id}"
    events = [
        ev_created(response_id),
        ev_message_added(item_id),
        ev_text_delta(item_id, text),
        *assistant_message_events(text, response_id=response_id)[3:],
    ]
    return events, Gate(hold_after=3)
