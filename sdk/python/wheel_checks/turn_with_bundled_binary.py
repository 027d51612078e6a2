"""Checks the SDK platform wheel as a user gets it: run with the python of a fresh venv
holding only that wheel (and its dependencies), without $CODEX_BIN and without a `codex`
on PATH. The SDK must run its bundled binary and complete a turn, sync and async, against
the project's mock model. Run by scripts/test; exits non-zero on any failure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from app_server_harness import AppServerHarness

import openai_codex
from openai_codex import AsyncCodex, Codex
from openai_codex._config import find_codex_bin


def main() -> None:
    installed = Path(openai_codex.__file__).resolve().parent
    assert Path(sys.prefix) in installed.parents, f"SDK imported from {installed}, not the venv"
    assert "CODEX_BIN" not in os.environ
    bundled = installed / "bin" / "codex"
    assert find_codex_bin(None, dict(os.environ)) == bundled, "bundled binary not chosen first"

    with tempfile.TemporaryDirectory() as tmp, AppServerHarness(Path(tmp)) as harness:
        harness.responses.enqueue_assistant_message("from the wheel", response_id="w1")
        harness.responses.enqueue_assistant_message("async too", response_id="w2")
        with Codex(config=harness.app_server_config()) as codex:
            assert codex.metadata.serverInfo is not None
            assert codex.metadata.serverInfo.name == "codex-rs-lean"
            sync_answer = codex.thread_start().run("hello").final_response

        async def run_async() -> str | None:
            async with AsyncCodex(config=harness.app_server_config()) as codex:
                thread = await codex.thread_start()
                return (await thread.run("again")).final_response

        async_answer = asyncio.run(run_async())
    answers = (sync_answer, async_answer)
    assert answers == ("from the wheel", "async too"), answers
    print(f"SDK wheel OK: {bundled}")


if __name__ == "__main__":
    main()
