"""An MCP server passed for one thread through `thread_start(config=...)` (dotted keys),
end to end: a real app-server binary ($CODEX_BIN), the mock model calling the server's tool
and the result reaching the model.

Needs the MCP test servers (`scripts/install-mcp-test-servers`). `scripts/test` runs it
against our binary only: the official 0.163 binary answers the call "unsupported call" in
about one run of three on a loaded machine (it sometimes sends the first model request before
registering the thread's MCP tools), so it cannot gate conformance.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from app_server_harness import AppServerHarness, ev_completed, ev_created, ev_function_call
from scenario_support import KINDS, aw, client

_REPO = Path(__file__).resolve().parents[3]


def _everything_server() -> str:
    """`@modelcontextprotocol/server-everything`, as scripts/install-mcp-test-servers puts it."""
    servers = Path(os.environ.get("CODEX_MCP_TEST_SERVERS") or _REPO / "target" / "mcp-servers")
    binary = servers / "npm" / "node_modules" / ".bin" / "mcp-server-everything"
    assert binary.exists(), f"{binary} is missing: run scripts/install-mcp-test-servers"
    return str(binary)


@pytest.mark.parametrize("kind", KINDS)
def test_mcp_server_passed_per_thread(kind: str, tmp_path: Path) -> None:
    async def scenario() -> tuple[Any, list[Any]]:
        with AppServerHarness(tmp_path) as harness:
            call = ev_function_call("call_mcp", "echo", {"message": "hi from python"})
            call["item"]["namespace"] = "mcp__everything"
            harness.responses.enqueue_sse([ev_created("call"), call, ev_completed("call")])
            harness.responses.enqueue_assistant_message("Done.", response_id="answer")
            server = {"command": _everything_server(), "startup_timeout_sec": 60}
            async with client(kind, harness.app_server_config()) as codex:
                thread = await aw(codex.thread_start(config={"mcp_servers.everything": server}))
                result = await aw(thread.run("Echo something."))
            return result, harness.responses.requests

    result, requests = asyncio.run(scenario())
    outputs = [i for i in requests[1].json()["input"] if i.get("type") == "function_call_output"]
    assert "Echo: hi from python" in json.dumps(outputs[0]["output"])
    items = [item.root for item in result.items]
    [item] = [item for item in items if getattr(item, "type", None) == "mcpToolCall"]
    assert (item.server, item.tool, item.status.value) == ("everything", "echo", "completed")
