"""Run under the official `openai-codex` SDK with this project's `openai-codex-cli-bin`
wheel installed in place of the official one (scripts/test, beside the seed test): the
official SDK must find and drive our binary through `codex_cli_bin`, no code change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import codex_cli_bin
from app_server_harness import AppServerHarness

from openai_codex import Codex


def test_codex_cli_bin_is_ours_and_the_official_sdk_runs_it(tmp_path: Path) -> None:
    assert "CODEX_BIN" not in os.environ
    binary = codex_cli_bin.bundled_codex_path()
    assert Path(sys.prefix) in binary.resolve().parents
    assert codex_cli_bin.bundled_path_dir() is None
    with AppServerHarness(tmp_path) as harness:
        harness.responses.enqueue_assistant_message("ours", response_id="o1")
        with Codex(config=harness.app_server_config()) as codex:
            server = codex.metadata.serverInfo
            answer = codex.thread_start().run("who runs this?").final_response
    assert server is not None and server.name == "codex-rs-lean"
    assert answer == "ours"
