"""One full coding turn through the Python SDK, printed as it streams.

Against the bundled scripted model server by default (a real HTTP server speaking the
Responses API, started from the `codex-mock-model` binary with `demo_scenario.json`), or
against the real OpenAI API when OPENAI_API_KEY is set. The agent reads `greeting.py`,
patches it and runs it; the demo prints every event, the final TurnResult and the file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from openai_codex import ApprovalMode, Codex, CodexConfig, Sandbox
from openai_codex._collector import TurnCollector

GREETING = 'def greet(name):\n    return "Hello, " + name\n\n\nprint(greet("demo"))\n'
PROMPT = "Make greet() in greeting.py friendlier (use an f-string), then run the file to check."


def start_mock(mock_bin: str, scenario: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [mock_bin, "--script", scenario],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening "):
        proc.kill()
        raise SystemExit(f"mock model server did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


def show(method: str, p: dict[str, Any]) -> None:
    """Prints one notification in a readable form."""
    if method == "item/agentMessage/delta":
        print(p["delta"], end="", flush=True)
        return
    if method in ("item/started", "item/completed"):
        item = p["item"]
        kind = item["type"]
        verb = "started  " if method == "item/started" else "completed"
        if kind == "commandExecution":
            print(f"\n[{verb}] command `{item['command']}` status={item['status']}", end="")
            if method == "item/completed":
                print(f" exit={item['exitCode']}\n{_indent(item.get('aggregatedOutput') or '')}")
            else:
                print()
        elif kind == "fileChange":
            print(f"\n[{verb}] file change status={item['status']}")
            for change in item["changes"]:
                print(f"    {change['kind']['type']} {change['path']}")
        elif kind == "agentMessage":
            if method == "item/started":
                print("\n[agent] ", end="")
            else:
                print()
        elif kind == "userMessage" and method == "item/completed":
            text = " ".join(c.get("text", "") for c in item["content"])
            print(f"[user] {text}")
        return
    if method == "turn/diff/updated":
        print(f"\n[diff]\n{_indent(p['diff'])}")
    elif method == "thread/tokenUsage/updated":
        last = p["tokenUsage"]["last"]
        print(f"[usage] in={last['inputTokens']} out={last['outputTokens']}")
    elif method == "turn/started":
        print(f"[turn] {p['turn']['id']} started")
    elif method == "turn/completed":
        print(f"[turn] {p['turn']['status']} in {p['turn']['durationMs']} ms")
    elif method == "error":
        print(f"[error] {p['error']['message']} (will retry: {p['willRetry']})")


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.rstrip("\n").splitlines())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--codex-bin", required=True)
    parser.add_argument("--mock-bin", required=True)
    parser.add_argument("--scenario", required=True)
    args = parser.parse_args()

    workspace = Path(tempfile.mkdtemp(prefix="codex-demo-"))
    codex_home = Path(tempfile.mkdtemp(prefix="codex-demo-home-"))
    (workspace / "greeting.py").write_text(GREETING)
    mock: subprocess.Popen[str] | None = None
    overrides: tuple[str, ...] = ()
    if os.environ.get("OPENAI_API_KEY"):
        print("Using the real OpenAI API (OPENAI_API_KEY is set).")
    else:
        mock, url = start_mock(args.mock_bin, args.scenario)
        print(f"Scripted model server at {url}")
        provider = (
            f'{{name="scripted", base_url="{url}", wire_api="responses", '
            "request_max_retries=0, stream_max_retries=0}"
        )
        overrides = ('model="mock-model"', 'model_provider="scripted"', f"model_providers.scripted={provider}")
    print(f"Workspace: {workspace}\n")
    config = CodexConfig(
        codex_bin=args.codex_bin,
        config_overrides=overrides,
        cwd=str(workspace),
        env={"CODEX_HOME": str(codex_home), "RUST_LOG": "warn"},
    )
    try:
        with Codex(config=config) as codex:
            print(f"Connected to {codex.metadata.userAgent}")
            thread = codex.thread_start(
                cwd=str(workspace), sandbox=Sandbox.workspace_write, approval_mode=ApprovalMode.deny_all
            )
            handle = thread.turn(PROMPT)
            collector = TurnCollector(handle.id)
            for notification in handle.stream():
                payload = notification.payload
                dumped = payload.model_dump(by_alias=True, mode="json") if hasattr(payload, "model_dump") else {}
                show(notification.method, dumped)
                collector.feed(notification)
            result = collector.result()
    finally:
        if mock is not None:
            mock.kill()
            mock.wait(timeout=5)

    print("\nTurnResult")
    print(f"  id:             {result.id}")
    print(f"  status:         {result.status.value}")
    print(f"  duration_ms:    {result.duration_ms}")
    print(f"  items:          {[item.root.type for item in result.items]}")
    print(f"  final_response: {result.final_response}")
    if result.usage is not None:
        print(f"  usage (total):  {result.usage.total.total_tokens} tokens")
    print(f"\n{workspace / 'greeting.py'} now reads:\n{_indent((workspace / 'greeting.py').read_text())}")
    return 0 if result.status.value == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
