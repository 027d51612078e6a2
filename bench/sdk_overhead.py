"""SDK overhead per turn and import time: our SDK driving our binary beside the official SDK
(openai-codex 0.163.0) driving the official binary, on the same instant mock model server.

Overhead per turn = wall time of `thread.run()` minus the server's own time for the turn
(`TurnResult.duration_ms`, measured by the server from turn start to completion), sync and async.

Usage: python3 bench/sdk_overhead.py [--turns N]
The parent builds nothing itself: it expects target/debug/codex-mock-model, target/py-venv (our
SDK) and target/bench-official-venv or target/official-venv (official SDK + binary), which
scripts/test, scripts/conformance and bench/run.py create.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 600


def child(turns: int, url: str) -> None:
    """Runs inside one SDK's venv; prints one JSON line of measurements."""
    import asyncio

    started = time.perf_counter()
    from openai_codex import AsyncCodex, Codex, CodexConfig

    import_s = time.perf_counter() - started
    provider = (
        f'{{name="mock", base_url="{url}", wire_api="responses", request_max_retries=0, '
        "stream_max_retries=0, requires_openai_auth=false}"
    )
    home = tempfile.mkdtemp(prefix="sdk-bench-")
    config = CodexConfig(
        codex_bin=os.environ["CODEX_BIN"],
        config_overrides=('model="mock-model"', 'model_provider="mock"', f"model_providers.mock={provider}"),
        cwd=home,
        env={"CODEX_HOME": home, "CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG": "1", "RUST_LOG": "warn"},
    )

    def sync_run() -> list[float]:
        out = []
        with Codex(config=config) as codex:
            thread = codex.thread_start()
            thread.run("warm up")
            for _ in range(turns):
                t0 = time.perf_counter()
                result = thread.run("hi")
                wall_ms = (time.perf_counter() - t0) * 1000
                out.append(wall_ms - (result.duration_ms or 0))
        return out

    async def async_run() -> list[float]:
        out = []
        async with AsyncCodex(config=config) as codex:
            thread = await codex.thread_start()
            await thread.run("warm up")
            for _ in range(turns):
                t0 = time.perf_counter()
                result = await thread.run("hi")
                wall_ms = (time.perf_counter() - t0) * 1000
                out.append(wall_ms - (result.duration_ms or 0))
        return out

    print(json.dumps({"sync": sync_run(), "async": asyncio.run(async_run()), "import_s": import_s}))


def import_time(python: str, runs: int = 7) -> float:
    """Median import time of openai_codex in a fresh interpreter, in ms."""
    code = "import time; t=time.perf_counter(); import openai_codex; print(time.perf_counter()-t)"
    samples = [
        float(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout)
        for _ in range(runs)
    ]
    return statistics.median(samples) * 1000


def official_setup() -> tuple[str, str]:
    for venv in ("bench-official-venv", "official-venv"):
        python = ROOT / "target" / venv / "bin" / "python"
        if python.exists():
            binary = subprocess.run(
                [str(python), "-c", "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())"],
                capture_output=True, text=True, check=True, timeout=60,
            ).stdout.strip()
            return str(python), binary
    raise SystemExit("no official venv: run scripts/conformance or bench/run.py first")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--child", metavar="URL")
    args = parser.parse_args()
    if args.child:
        child(args.turns, args.child)
        return
    mock = subprocess.Popen(
        [str(ROOT / "target/debug/codex-mock-model"), "--default-message", "ok"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert mock.stdout is not None
        url = mock.stdout.readline().split()[1]
        official_python, official_bin = official_setup()
        ours_python = str(ROOT / "target/py-venv/bin/python")
        ours_bin = str(ROOT / "target/release/codex")
        if not Path(ours_bin).exists():
            ours_bin = str(ROOT / "target/debug/codex")
        rows = {}
        for who, python, binary in (("ours", ours_python, ours_bin), ("official", official_python, official_bin)):
            done = subprocess.run(
                [python, __file__, "--child", url, "--turns", str(args.turns)],
                capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                env={**os.environ, "CODEX_BIN": binary},
            )
            if done.returncode != 0:
                raise SystemExit(f"{who} run failed:\n{done.stderr[-2000:]}")
            data = json.loads(done.stdout.strip().splitlines()[-1])
            rows[who] = {
                "sync": statistics.median(data["sync"]),
                "async": statistics.median(data["async"]),
                "import": import_time(python),
            }
    finally:
        mock.kill()
        mock.wait(timeout=5)
    print(f"| SDK figure (median, {args.turns} turns) | ours | official | ratio (official/ours) |")
    print("|---|---:|---:|---:|")
    for key, label in (
        ("sync", "overhead per turn, sync `run()` (wall − server time)"),
        ("async", "overhead per turn, async `run()` (wall − server time)"),
        ("import", "`import openai_codex`"),
    ):
        ours, official = rows["ours"][key], rows["official"][key]
        ratio = official / ours if ours > 0 else float("inf")
        print(f"| {label} | {ours:.2f} ms | {official:.2f} ms | **{ratio:.1f}x** |")


if __name__ == "__main__":
    main()
