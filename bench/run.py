#!/usr/bin/env python3
"""Side-by-side benchmark of our `codex app-server` against the official codex 0.163.0 binary.

Both binaries get the same workload over raw JSON-RPC (one JSON object per line on stdin/stdout),
driven by a reader thread per server process. The model is `codex-mock-model` (a local Responses
API mock). Results are printed as a Markdown table (ratio = official / ours, so > 1 means we win)
and written to bench/results.md. Python 3.11 standard library only.

Usage: python3 bench/run.py [--quick] [--ours PATH] [--official PATH] [--only a,b] [--out FILE]
Phases (for --only): cold_start, thread_start, turn, concurrent, stream, list, fuzzy, size.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import datetime as dt
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "target"
WORK = TARGET / "bench-work"  # temp CODEX_HOMEs (deleted on exit)
TEMPLATES = TARGET / "bench-templates"  # cached synthetic sessions (reused across runs)
OFFICIAL_VENV = TARGET / "bench-official-venv"
OFFICIAL_PKG = "openai-codex==0.163.0"
TEMPLATE_VERSION = "v1"

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DEFAULT_TIMEOUT = 60.0
LONG_TIMEOUT = 300.0
PHASES = ["cold_start", "thread_start", "turn", "concurrent", "stream", "list", "fuzzy", "size"]

# ---------------------------------------------------------------------------------------------
# child process bookkeeping: every child we start is killed on exit, by pid


_CHILDREN: list[subprocess.Popen] = []
_TEMP_DIRS: list[Path] = []


def _cleanup() -> None:
    for p in list(_CHILDREN):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass
    for d in _TEMP_DIRS:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fresh_dir(prefix: str) -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    d = Path(tempfile.mkdtemp(prefix=prefix, dir=WORK))
    _TEMP_DIRS.append(d)
    return d


def drop_dir(d: Path) -> None:
    shutil.rmtree(d, ignore_errors=True)
    if d in _TEMP_DIRS:
        _TEMP_DIRS.remove(d)


class BenchTimeout(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# the mock model


class Mock:
    """`codex-mock-model` as a child; stdin stays open so it dies with us."""

    def __init__(self, binary: Path, message: str, deltas: int | None = None):
        argv = [str(binary), "--default-message", message]
        if deltas is not None:
            argv += ["--deltas", str(deltas)]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        _CHILDREN.append(self.proc)
        line = _readline_with_timeout(self.proc.stdout, 20.0)
        if not line.startswith(b"listening "):
            raise RuntimeError(f"mock did not start: {line!r}")
        self.url = line.decode().split(" ", 1)[1].strip()  # http://127.0.0.1:PORT/v1
        self.root = self.url.rsplit("/v1", 1)[0]
        self.offset_ms = self._calibrate()

    def _calibrate(self) -> float:
        """The mock stamps requests in whole ms since *its* start (not epoch ms). Find that
        origin in epoch ms: each request we send ourselves at [t0, t1] with stamp r bounds the
        origin to (t0 - r - 1, t1 - r]; intersecting many such bounds (sent at scattered
        sub-ms phases) pins it down to a fraction of a ms. Returns the epoch ms of the middle of
        stamp 0, so `origin + received_ms` is the best estimate of an arrival (+-0.5 ms)."""
        lo, hi = -float("inf"), float("inf")
        rng = random.Random(0)
        self.calibration_requests = 25
        for i in range(self.calibration_requests):
            marker = f"bench-calibration-{i}"
            body = json.dumps({"input": [{"role": "user", "content": marker}]}).encode()
            req = urllib.request.Request(
                self.url + "/responses", data=body, headers={"content-type": "application/json"}
            )
            time.sleep(rng.random() / 1000)
            t0 = time.time() * 1000
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
            t1 = time.time() * 1000
            got = [q for q in self.requests() if json.dumps(q.get("body")).find(marker) >= 0]
            if not got:
                continue
            r_ms = got[-1]["received_ms"]
            lo, hi = max(lo, t0 - r_ms - 1), min(hi, t1 - r_ms)
        if lo == -float("inf"):
            raise RuntimeError("mock calibration failed")
        if lo > hi:  # clocks disagree slightly; fall back to the middle of the overlap region
            lo, hi = hi, lo
        self.calibration_width_ms = hi - lo
        return (lo + hi) / 2 + 0.5

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(self.root + "/_mock/requests", timeout=30) as r:
            return json.loads(r.read())

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _readline_with_timeout(stream, timeout: float) -> bytes:
    out: list[bytes] = []
    t = threading.Thread(target=lambda: out.append(stream.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not out:
        raise BenchTimeout(f"no line within {timeout}s")
    return out[0]


# ---------------------------------------------------------------------------------------------
# one app-server process and its JSON-RPC client


def config_args(mock_url: str) -> list[str]:
    provider = (
        '{name="mock", base_url="%s", wire_api="responses", request_max_retries=0, '
        "stream_max_retries=0, requires_openai_auth=false}" % mock_url
    )
    kv = ['model="mock-model"', 'model_provider="mock"', f"model_providers.mock={provider}"]
    out: list[str] = []
    for k in kv:
        out += ["-c", k]
    return out


class Server:
    def __init__(self, binary: Path, mock_url: str, codex_home: Path, cwd: Path,
                 extra_args: list[str] | None = None):
        self.binary = binary
        env = dict(os.environ)
        env.update(
            CODEX_HOME=str(codex_home),
            CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG="1",
            RUST_LOG="warn",
        )
        # As the official SDK does for its bundled binary: its helper dir (rg) goes first on PATH.
        helper = binary.parent.parent / "codex-path"
        if helper.is_dir():
            env["PATH"] = f"{helper}{os.pathsep}{env.get('PATH', '')}"
        argv = [str(binary), *config_args(mock_url), *(extra_args or []), "app-server", "--listen",
                "stdio://"]
        self.cond = threading.Condition()
        self.responses: dict[int, tuple[dict, float]] = {}
        self.turn_done: dict[str, tuple[float, dict]] = {}
        self.threads_done: set[str] = set()
        self.method_counts: collections.Counter = collections.Counter()
        self.delta_count = 0
        self.delta_first_t = 0.0
        self.delta_last_t = 0.0
        self.server_requests: list[dict] = []
        self.bad_lines: list[bytes] = []
        self.stderr_tail: collections.deque = collections.deque(maxlen=300)
        self.eof = False
        self._next_id = 0
        self._write_lock = threading.Lock()
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(
            argv,
            cwd=str(cwd),
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        _CHILDREN.append(self.proc)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    # -- reader threads

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_tail.append(line.decode("utf-8", "replace").rstrip())

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            now = time.perf_counter()
            # Deltas dominate streamed turns; counting them without decoding keeps the client
            # from being the bottleneck (both servers get the same treatment).
            if b'"item/agentMessage/delta"' in line[:200]:
                if self.delta_count == 0:
                    self.delta_first_t = now
                self.delta_count += 1
                self.delta_last_t = now
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                self.bad_lines.append(line[:300])
                continue
            self._dispatch(msg, now)
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def _dispatch(self, msg: dict, now: float) -> None:
        method = msg.get("method")
        if method is not None and "id" in msg:
            # A server->client request (approval etc.): decline it so nothing waits on us.
            self.server_requests.append(msg)
            self._write({"id": msg["id"], "result": {"decision": "decline"}})
            return
        with self.cond:
            if method is None:
                self.responses[msg.get("id")] = (msg, now)
            else:
                self.method_counts[method] += 1
                if method == "turn/completed":
                    p = msg.get("params") or {}
                    turn = p.get("turn") or {}
                    self.turn_done[turn.get("id")] = (now, turn)
                    self.threads_done.add(p.get("threadId"))
            self.cond.notify_all()

    # -- writing

    def _write(self, obj: dict) -> None:
        self.write_raw((json.dumps(obj, separators=(",", ":")) + "\n").encode())

    def write_raw(self, data: bytes) -> None:
        with self._write_lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def encode_request(self, method: str, params: dict | None) -> tuple[int, bytes]:
        rid = self.new_id()
        obj = {"id": rid, "method": method}
        if params is not None:
            obj["params"] = params
        return rid, (json.dumps(obj, separators=(",", ":")) + "\n").encode()

    def send(self, method: str, params: dict | None = None) -> tuple[int, float]:
        rid, data = self.encode_request(method, params)
        t = time.perf_counter()
        self.write_raw(data)
        return rid, t

    def notify(self, method: str, params: dict | None = None) -> None:
        obj = {"method": method}
        if params is not None:
            obj["params"] = params
        self._write(obj)

    # -- waiting

    def wait_until(self, pred, timeout: float, what: str) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: pred() or self.eof, timeout)
            if pred():
                return
        if not ok:
            raise BenchTimeout(f"timeout after {timeout:.0f}s waiting for {what}")
        raise RuntimeError(f"server exited while waiting for {what}; stderr: {self.stderr_snip()}")

    def wait_response(self, rid: int, timeout: float = DEFAULT_TIMEOUT) -> tuple[dict, float]:
        self.wait_until(lambda: rid in self.responses, timeout, f"response {rid}")
        msg, t = self.responses.pop(rid)
        if "error" in msg:
            raise RpcError(msg["error"])
        return msg["result"], t

    def request(self, method: str, params: dict | None = None, timeout: float = DEFAULT_TIMEOUT):
        """Returns (result, seconds from send to response)."""
        rid, t0 = self.send(method, params)
        result, t1 = self.wait_response(rid, timeout)
        return result, t1 - t0

    def initialize(self, timeout: float = DEFAULT_TIMEOUT) -> float:
        """Handshake; returns seconds from spawn to the initialize response."""
        rid, _ = self.send(
            "initialize",
            {
                "clientInfo": {"name": "bench", "title": "bench", "version": "0.163.0"},
                "capabilities": {"experimentalApi": True},
            },
        )
        _, t = self.wait_response(rid, timeout)
        self.notify("initialized")
        return t - self.t_spawn

    # -- inspection

    def status_kb(self, field: str) -> int | None:
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def descendants(self) -> list[int]:
        out, frontier = [], [self.proc.pid]
        while frontier:
            pid = frontier.pop()
            try:
                kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                kids = []
            for k in kids:
                out.append(int(k))
                frontier.append(int(k))
        return out

    def stderr_snip(self, n: int = 15) -> str:
        return " | ".join(list(self.stderr_tail)[-n:])

    def suspicious_stderr(self) -> list[str]:
        keys = ("panic", "ERROR", "error", "thread '")
        return [line for line in self.stderr_tail if any(k in line for k in keys)]

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc in _CHILDREN:
            _CHILDREN.remove(self.proc)


class RpcError(Exception):
    def __init__(self, err: dict):
        super().__init__(f"{err.get('code')}: {err.get('message')}")
        self.err = err


# ---------------------------------------------------------------------------------------------
# results


class Results:
    def __init__(self):
        self.rows: list[tuple[str, dict, str]] = []  # (metric, {who: value}, unit)
        self.notes: list[str] = []
        self.details: list[str] = []
        self.stderr_seen: dict[tuple[str, str], list] = {}

    def add(self, metric: str, who: str, value, unit: str) -> None:
        for m, vals, u in self.rows:
            if m == metric:
                vals[who] = value
                return
        self.rows.append((metric, {who: value}, unit))

    def stderr_line(self, who: str, phase: str, line: str) -> None:
        """Collects distinct warning/error lines from a server's stderr (timestamps stripped)."""
        clean = ANSI.sub("", line)
        clean = re.sub(r"^\S*\d{4}-\d\d-\d\dT\S+\s+", "", clean).strip()
        key = (who, clean[:160])
        if key in self.stderr_seen:
            self.stderr_seen[key][1].add(phase)
            return
        self.stderr_seen[key] = [clean[:400], {phase}]

    def stderr_notes(self) -> list[str]:
        return [
            f"{who} stderr ({', '.join(sorted(phases))}): `{text}`"
            for (who, _), (text, phases) in self.stderr_seen.items()
        ]

    def note(self, text: str) -> None:
        log("note: " + text)
        self.notes.append(text)

    def detail(self, who: str, metric: str, samples_s: list[float]) -> None:
        ms = sorted(x * 1000 for x in samples_s)
        if not ms:
            return
        p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
        self.details.append(
            f"| {metric} | {who} | {len(ms)} | {ms[0]:.2f} | {statistics.median(ms):.2f} | "
            f"{p90:.2f} | {ms[-1]:.2f} |"
        )

    def table(self) -> str:
        lines = [
            "| Metric | ours | official | ratio (official/ours) |",
            "|---|---:|---:|---:|",
        ]
        for metric, vals, unit in self.rows:
            o, f = vals.get("ours"), vals.get("official")
            lines.append(f"| {metric} | {fmt(o, unit)} | {fmt(f, unit)} | {ratio(o, f, unit)} |")
        return "\n".join(lines)


def fmt(v, unit: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, str):
        return v
    if unit == "ms":
        return f"{v * 1000:.2f} ms" if v < 1 else f"{v * 1000:,.0f} ms"
    if unit == "MB":
        return f"{v / 1024:.1f} MB"  # v in kB
    if unit == "MiB":
        return f"{v / (1024 * 1024):.1f} MiB"  # v in bytes
    return f"{v} {unit}"


def ratio(o, f, unit: str) -> str:
    if isinstance(o, (int, float)) and isinstance(f, (int, float)) and o > 0:
        return f"**{f / o:.1f}x**"
    m = re.match(r"^([\d.]+) MB at timeout", f) if isinstance(f, str) else None
    if m and unit == "MB" and isinstance(o, (int, float)) and o > 0:
        return f"≥ {float(m.group(1)) * 1024 / o:.1f}x"  # the official's figure is a lower bound
    if unit == "ms" and f == "timeout" and isinstance(o, (int, float)) and o > 0:
        return "> " + f"{LONG_TIMEOUT / o:.0f}x"
    return "n/a"


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# ---------------------------------------------------------------------------------------------
# phases


class Bench:
    def __init__(self, args, binaries: dict[str, Path], mock_bin: Path, res: Results):
        self.args = args
        self.bins = binaries
        self.mock_bin = mock_bin
        self.res = res
        self.quick = args.quick
        self.workspace = fresh_dir("ws-")

    def spawn(self, who: str, mock: Mock, home: Path | None = None) -> Server:
        home = home or fresh_dir(f"home-{who}-")
        return Server(self.bins[who], mock.url, home, self.workspace)

    def thread_start(self, srv: Server, timeout: float = DEFAULT_TIMEOUT):
        result, dt_ = srv.request(
            "thread/start",
            {"cwd": str(self.workspace), "approvalPolicy": "never", "sandbox": "read-only"},
            timeout,
        )
        return result["thread"]["id"], dt_

    def turn_params(self, thread_id: str, text: str) -> dict:
        return {"threadId": thread_id, "input": [{"type": "text", "text": text}]}

    def run_turn(self, srv: Server, thread_id: str, text: str, timeout: float = DEFAULT_TIMEOUT):
        """Sends turn/start, waits for its turn/completed. Returns (epoch ms at send,
        seconds send->completed, completed turn)."""
        rid, data = srv.encode_request("turn/start", self.turn_params(thread_id, text))
        t_epoch = time.time() * 1000
        t0 = time.perf_counter()
        srv.write_raw(data)
        result, _ = srv.wait_response(rid, timeout)
        turn_id = result["turn"]["id"]
        srv.wait_until(lambda: turn_id in srv.turn_done, timeout, f"turn/completed {turn_id}")
        t1, turn = srv.turn_done[turn_id]
        return t_epoch, t1 - t0, turn

    def check_server(self, who: str, srv: Server, phase: str) -> None:
        for line in srv.suspicious_stderr():
            self.res.stderr_line(who, phase, line)
        if srv.bad_lines:
            self.res.note(f"{who} wrote {len(srv.bad_lines)} non-JSON stdout lines during {phase}")
        if srv.server_requests:
            self.res.note(f"{who} sent {len(srv.server_requests)} server requests during {phase}")

    def guarded(self, phase: str, who: str, fn):
        try:
            return fn()
        except BenchTimeout as e:
            self.res.note(f"{who} {phase}: {e}")
            return "timeout"
        except Exception as e:  # report and keep going with the other figures
            self.res.note(f"{who} {phase}: FAILED: {type(e).__name__}: {e}")
            return "error"

    # -- cold start

    def cold_start(self) -> None:
        n = 5 if self.quick else 10
        mock = Mock(self.mock_bin, "ok")
        samples = {w: [] for w in self.bins}
        rss = {w: [] for w in self.bins}
        try:
            for who in self.bins:  # one discarded spawn each: page cache, first-run effects
                self._one_cold(who, mock)
            for _ in range(n):
                for who in self.bins:  # interleaved so drift hits both equally
                    r = self.guarded("cold start", who, lambda: self._one_cold(who, mock))
                    if isinstance(r, tuple):
                        samples[who].append(r[0])
                        if r[1] is not None:
                            rss[who].append(r[1])
        finally:
            mock.close()
        for who in self.bins:
            if samples[who]:
                self.res.add(f"cold start → initialize response (median of {n})", who,
                             median(samples[who]), "ms")
                self.res.detail(who, "cold start → initialize", samples[who])
            if rss[who]:
                self.res.add("RSS right after initialize", who, median(rss[who]), "MB")

    def _one_cold(self, who: str, mock: Mock):
        home = fresh_dir(f"cold-{who}-")
        srv = self.spawn(who, mock, home)
        try:
            t = srv.initialize()
            rss = srv.status_kb("VmRSS")
            self.check_server(who, srv, "cold start")
            return t, rss
        finally:
            srv.close()
            drop_dir(home)

    # -- thread/start

    def thread_start_phase(self) -> None:
        n = 10 if self.quick else 30
        mock = Mock(self.mock_bin, "ok")
        try:
            for who in self.bins:
                def go():
                    srv = self.spawn(who, mock)
                    try:
                        srv.initialize()
                        xs = [self.thread_start(srv)[1] for _ in range(n)]
                        self.check_server(who, srv, "thread/start")
                        return xs
                    finally:
                        srv.close()

                xs = self.guarded("thread/start", who, go)
                if isinstance(xs, list):
                    self.res.add(f"thread/start (median of {n})", who, median(xs), "ms")
                    self.res.add("first thread/start after initialize", who, xs[0], "ms")
                    self.res.detail(who, "thread/start", xs)
                else:
                    self.res.add(f"thread/start (median of {n})", who, xs, "ms")
        finally:
            mock.close()

    # -- sequential turns on one thread: completion latency and time to the model request

    def turn_phase(self) -> None:
        n = 10 if self.quick else 30
        for who in self.bins:
            mock = Mock(self.mock_bin, "Hello from the mock.")
            try:
                r = self.guarded("turns", who, lambda: self._turns(who, mock, n))
            finally:
                mock.close()
            if not isinstance(r, tuple):
                self.res.add(f"turn/start → turn/completed, instant mock (median of {n})", who, r, "ms")
                continue
            done, to_model = r
            self.res.add(f"turn/start → turn/completed, instant mock (median of {n})", who,
                         median(done), "ms")
            self.res.detail(who, "turn/start → turn/completed", done)
            if to_model:
                self.res.add(f"turn/start → request at the model (median of {len(to_model)})",
                             who, median(to_model), "ms")
                self.res.detail(who, "turn/start → model request", to_model)

    def _turns(self, who: str, mock: Mock, n: int):
        srv = self.spawn(who, mock)
        try:
            srv.initialize()
            tid, _ = self.thread_start(srv)
            sent: dict[str, float] = {}
            done: list[float] = []
            for i in range(n):
                text = f"bench turn {i:03d}"
                t_epoch, d, turn = self.run_turn(srv, tid, text)
                if turn.get("status") != "completed":
                    self.res.note(f"{who}: turn {i} ended {turn.get('status')}: {turn.get('error')}")
                sent[text] = t_epoch
                done.append(d)
            self.check_server(who, srv, "sequential turns")
        finally:
            srv.close()
        # Match each model request to its turn by the newest user text in its input.
        to_model: list[float] = []
        seen: set[str] = set()
        for req in mock.requests():
            if req.get("method") != "POST" or not str(req.get("path", "")).endswith("/responses"):
                continue
            text = last_user_text(req.get("body"))
            if text in sent and text not in seen:
                seen.add(text)
                to_model.append((mock.offset_ms + req["received_ms"] - sent[text]) / 1000)
        if len(seen) != n:
            self.res.note(f"{who}: matched {len(seen)} of {n} model requests to turns")
        return done, to_model

    # -- concurrent turns and peak RSS

    def concurrent_phase(self) -> None:
        sizes = [20, 50] if self.quick else [20, 200]
        for who in self.bins:
            for n in sizes:
                mock = Mock(self.mock_bin, "Hello from the mock.")
                try:
                    r = self.guarded(f"{n} concurrent turns", who,
                                     lambda: self._concurrent(who, mock, n))
                finally:
                    mock.close()
                label = f"{n} concurrent turns ({n} threads), wall time"
                rss_label = f"peak RSS (VmHWM) after {n} threads with a turn each"
                if not isinstance(r, dict):
                    self.res.add(label, who, r, "ms")
                    if n == sizes[-1]:
                        self.res.add(rss_label, who, r, "MB")
                    continue
                self.res.add(label, who, r["wall"], "ms")
                if n == sizes[-1]:
                    hwm = r["hwm"]
                    if r["wall"] == "timeout" and isinstance(hwm, int):
                        hwm = f"{hwm / 1024:.1f} MB at timeout"
                    self.res.add(rss_label, who, hwm, "MB")
                    if r["kids"]:
                        self.res.note(f"{who}: child processes alive after {n} turns: {r['kids']}")

    def _concurrent(self, who: str, mock: Mock, n: int) -> dict:
        srv = self.spawn(who, mock)
        try:
            srv.initialize()
            # Threads: pipelined thread/start, then every turn/start in one write.
            params = {"cwd": str(self.workspace), "approvalPolicy": "never", "sandbox": "read-only"}
            ids = [srv.send("thread/start", params)[0] for _ in range(n)]
            deadline = time.perf_counter() + LONG_TIMEOUT
            threads = [
                srv.wait_response(i, max(0.0, deadline - time.perf_counter()))[0]["thread"]["id"]
                for i in ids
            ]
            blob, rids = b"", []
            for k, tid in enumerate(threads):
                rid, data = srv.encode_request("turn/start", self.turn_params(tid, f"concurrent {k}"))
                rids.append(rid)
                blob += data
            want = set(threads)
            t0 = time.perf_counter()
            srv.write_raw(blob)
            wall: float | str
            try:
                srv.wait_until(lambda: want <= srv.threads_done, LONG_TIMEOUT,
                               f"{n} turn/completed")
                wall = max(srv.turn_done[t][0] for t in srv.turn_done) - t0
            except BenchTimeout:
                wall = "timeout"
                got = len(want & srv.threads_done)
                answered = len([r for r in rids if r in srv.responses])
                reqs = len([q for q in mock.requests() if q.get("method") == "POST"])
                reqs -= mock.calibration_requests
                self.res.note(
                    f"{who}: {n} concurrent turns: only {got} of {n} turn/completed within "
                    f"{LONG_TIMEOUT:.0f}s; {answered} turn/start answered, {reqs} model requests "
                    f"made; server CPU time {cpu_seconds(srv.proc.pid):.1f}s")
            failed = [t for _, (_, t) in srv.turn_done.items() if t.get("status") != "completed"]
            if failed:
                self.res.note(f"{who}: {len(failed)} of {n} concurrent turns not completed, e.g. "
                              f"{failed[0].get('status')}: {failed[0].get('error')}")
            hwm = srv.status_kb("VmHWM")
            kids = srv.descendants()
            self.check_server(who, srv, f"{n} concurrent turns")
            return {"wall": wall, "hwm": hwm, "kids": kids}
        finally:
            srv.close()

    # -- streamed turn

    def stream_phase(self) -> None:
        deltas = 2000
        text = ("lorem " * 2000)[: deltas * 5]  # exactly 5 chars per delta -> exactly 2000 deltas
        reps = 3
        for who in self.bins:
            mock = Mock(self.mock_bin, text, deltas)
            try:
                r = self.guarded("streamed turn", who, lambda: self._stream(who, mock, reps, deltas))
            finally:
                mock.close()
            label = f"{deltas}-delta streamed turn, turn/start → turn/completed (median of {reps})"
            if isinstance(r, list):
                self.res.add(label, who, median(r), "ms")
                self.res.detail(who, "2000-delta turn", r)
            else:
                self.res.add(label, who, r, "ms")

    def _stream(self, who: str, mock: Mock, reps: int, deltas: int) -> list[float]:
        srv = self.spawn(who, mock)
        try:
            srv.initialize()
            xs, first, spread = [], [], []
            for i in range(reps):
                tid, _ = self.thread_start(srv)  # fresh thread each time: no growing history
                srv.delta_count = 0
                t_send = time.perf_counter()
                _, d, turn = self.run_turn(srv, tid, f"stream {i}", LONG_TIMEOUT)
                got = srv.delta_count
                if got:
                    first.append(srv.delta_first_t - t_send)
                    spread.append(srv.delta_last_t - srv.delta_first_t)
                if got != deltas:
                    self.res.note(f"{who}: streamed turn {i} delivered {got} delta notifications "
                                  f"for {deltas} model deltas")
                if turn.get("status") != "completed":
                    self.res.note(f"{who}: streamed turn ended {turn.get('status')}")
                xs.append(d)
            self.res.detail(who, "2000-delta turn: turn/start → first delta", first)
            self.res.detail(who, "2000-delta turn: first → last delta", spread)
            self.check_server(who, srv, "streamed turn")
            return xs
        finally:
            srv.close()

    # -- thread/list over synthetic rollouts

    def list_phase(self) -> None:
        sizes = [1000] if self.quick else [1000, 100_000]
        mock = Mock(self.mock_bin, "ok")
        try:
            for n in sizes:
                template = ensure_template(n)
                for who in self.bins:
                    self._list(who, mock, n, template)
        finally:
            mock.close()

    def _list(self, who: str, mock: Mock, n: int, template: Path) -> None:
        home = fresh_dir(f"list{n}-{who}-")
        t = time.perf_counter()
        subprocess.run(["cp", "-al", str(template / "sessions"), str(home / "sessions")],
                       check=True, timeout=LONG_TIMEOUT)
        log(f"{who}: hard-linked {n} rollouts in {time.perf_counter() - t:.1f}s")
        k = f"{n:,}"
        try:
            for run in ("first start", "restart"):
                srv = self.spawn(who, mock, home)
                try:
                    r = self.guarded(f"thread/list {k} ({run})", who,
                                     lambda: self._list_session(who, srv, n, k, run))
                    if not isinstance(r, dict):
                        self.res.add(f"thread/list {k}: spawn → first page ({run})", who, r, "ms")
                        break
                finally:
                    srv.close()
        finally:
            drop_dir(home)

    def _list_session(self, who: str, srv: Server, n: int, k: str, run: str) -> dict:
        t_init = srv.initialize(LONG_TIMEOUT)
        rid, _ = srv.send("thread/list", {"limit": 25})
        first, t_first = srv.wait_response(rid, LONG_TIMEOUT)
        spawn_to_first = t_first - srv.t_spawn
        self.res.add(f"thread/list {k}: spawn → first page ({run})", who, spawn_to_first, "ms")
        if run == "first start":
            self.res.add(f"thread/list {k}: of which spawn → initialize ({run})", who, t_init, "ms")
        if len(first.get("data", [])) != min(25, n):
            self.res.note(f"{who}: thread/list {k} first page had {len(first.get('data', []))} "
                          f"threads ({run})")
        if run == "restart":
            return {}
        steady = [srv.request("thread/list", {"limit": 25}, LONG_TIMEOUT)[1] for _ in range(5)]
        self.res.add(f"thread/list {k}: first page, steady state (median of 5)", who,
                     median(steady), "ms")
        # Full walk, limit 100, following nextCursor.
        t0 = time.perf_counter()
        cursor, seen, pages, dup = None, set(), 0, 0
        deadline = t0 + LONG_TIMEOUT
        while True:
            params = {"limit": 100}
            if cursor:
                params["cursor"] = cursor
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchTimeout(f"full walk passed {LONG_TIMEOUT:.0f}s after {pages} pages, "
                                   f"{len(seen)} threads")
            page, _ = srv.request("thread/list", params, left)
            pages += 1
            for th in page.get("data", []):
                dup += th["id"] in seen
                seen.add(th["id"])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        walk = time.perf_counter() - t0
        self.res.add(f"thread/list {k}: full walk, limit 100", who, walk, "ms")
        if len(seen) != n or dup:
            self.res.note(f"{who}: full walk at {k} returned {len(seen)} distinct threads "
                          f"(expected {n}), {dup} duplicates, {pages} pages")
        self.check_server(who, srv, f"thread/list {k}")
        return {}

    # -- binary size

    # -- fuzzyFileSearch over a 100,000-file tree

    FUZZY_QUERIES = ["main", "widget_42", "srcmod7tst", "readme"]

    def fuzzy_phase(self) -> None:
        n = 10_000 if self.quick else 100_000
        tree = ensure_file_tree(n)
        mock = Mock(self.mock_bin, "ok")
        try:
            for who in self.bins:
                srv = self.spawn(who, mock)
                try:
                    self.guarded("fuzzyFileSearch", who, lambda: self._fuzzy(who, srv, n, tree))
                finally:
                    srv.close()
        finally:
            mock.close()

    def _fuzzy(self, who: str, srv: Server, n: int, tree: Path) -> None:
        srv.initialize()
        reps = 3 if self.quick else 5
        samples = []
        hits = 0
        # CPU time as well as wall time: on a shared machine the wall time mostly says how much
        # of the cores the server got, the CPU time what the search cost.
        cpu_before = cpu_seconds(srv.proc.pid)
        for q in self.FUZZY_QUERIES:
            for _ in range(reps):
                result, dt_ = srv.request(
                    "fuzzyFileSearch", {"query": q, "roots": [str(tree)]}, LONG_TIMEOUT
                )
                samples.append(dt_)
            hits += len(result.get("files", []))
        if hits == 0:
            self.res.note(f"{who} fuzzyFileSearch returned no files for any query")
        cpu_per_search = (cpu_seconds(srv.proc.pid) - cpu_before) / len(samples)
        self.res.add(f"fuzzyFileSearch over {n:,} files (median of {len(samples)})", who,
                     median(samples), "ms")
        self.res.add(f"fuzzyFileSearch over {n:,} files: server CPU time per search", who,
                     cpu_per_search, "ms")
        self.res.detail(who, f"fuzzyFileSearch {n:,}", samples)
        self.check_server(who, srv, "fuzzy")

    def size_phase(self) -> None:
        for who, path in self.bins.items():
            self.res.add("binary size (codex)", who, path.stat().st_size, "MiB")
        off = self.bins.get("official")
        if off is not None:
            bindir = off.parent
            total = sum(p.stat().st_size for p in bindir.iterdir() if p.is_file())
            self.res.add("binary size (codex)", "official", off.stat().st_size, "MiB")
            self.res.add("shipped bin dir (official: codex + helpers)", "official", total, "MiB")
            ours = self.bins.get("ours")
            if ours is not None:
                self.res.add("shipped bin dir (official: codex + helpers)", "ours",
                             ours.stat().st_size, "MiB")
            names = ", ".join(sorted(p.name for p in bindir.iterdir()))
            self.res.note(f"official bin dir {bindir} holds: {names}")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def last_user_text(body) -> str | None:
    if not isinstance(body, dict):
        return None
    for item in reversed(body.get("input") or []):
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            if isinstance(content, str):
                return content
            texts = [c.get("text") for c in content or [] if isinstance(c, dict)]
            return "".join(t for t in texts if isinstance(t, str))
    return None


# ---------------------------------------------------------------------------------------------
# synthetic rollouts (official 0.163 line format, see transcripts/02-simple-turn.jsonl)


def uuid7(ms: int, rng: random.Random) -> str:
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rng.getrandbits(12) << 64
    value |= 0b10 << 62
    value |= rng.getrandbits(62)
    return str(uuid.UUID(int=value))


def iso_ms(ms: int) -> str:
    t = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def rollout_lines(thread_id: str, turn_id: str, ms: int, i: int, cwd: str, rng) -> list[dict]:
    user_text = f"Synthetic thread {i}: please say hello."
    answer = f"Hello from synthetic thread {i}."
    sec = ms // 1000
    user_item_id = uuid7(ms + 1, rng)
    msg_id = f"msg_{uuid7(ms + 1, rng)}"
    lines = [
        ("session_meta", ms, {
            "session_id": thread_id, "id": thread_id, "timestamp": iso_ms(ms), "cwd": cwd,
            "runtime_workspace_roots": [cwd], "originator": "codex_python_sdk",
            "cli_version": "0.163.0", "source": "vscode", "model_provider": "mock",
            "base_instructions": {"text": "You are a coding agent (synthetic benchmark thread).",
                                  "provenance": {"type": "model", "model": "mock-model"}},
            "history_mode": "paginated",
            "context_window": {"window_id": uuid7(ms, rng)},
        }),
        ("event_msg", ms, {
            "type": "task_started",
            "turn_attribution": {"turn_id": turn_id, "turn_trigger": None, "parent_turn_id": None,
                                 "initiating_agent_path": None, "root_turn_id": turn_id},
            "turn_id": turn_id, "root_turn_id": turn_id, "started_at": sec,
            "model_context_window": 258400, "collaboration_mode_kind": "default",
        }),
        ("response_item", ms + 1, {
            "type": "message", "id": msg_id, "role": "user",
            "content": [{"type": "input_text", "text": user_text}],
            "internal_chat_message_metadata_passthrough": {
                "turn_id": turn_id, "create_time": (ms + 1) / 1000,
                "content_item_kinds": ["user.text"]},
            "metadata": {"client_authored": False, "user_input_order": 0,
                         "mcp_attribution": {"status": "none"}},
        }),
        ("event_msg", ms + 1, {
            "type": "item_completed", "thread_id": thread_id, "turn_id": turn_id,
            "item": {"type": "UserMessage", "id": user_item_id,
                     "content": [{"type": "text", "text": user_text, "text_elements": []}]},
            "started_at_ms": ms + 1, "completed_at_ms": ms + 1,
        }),
        ("event_msg", ms + 20, {
            "type": "item_completed", "thread_id": thread_id, "turn_id": turn_id,
            "item": {"type": "AgentMessage", "id": "msg_resp_synthetic",
                     "content": [{"type": "Text", "text": answer}]},
            "started_at_ms": ms + 19, "completed_at_ms": ms + 20,
        }),
        ("event_msg", ms + 25, {
            "type": "task_complete", "root_turn_id": turn_id, "turn_id": turn_id,
            "last_agent_message": answer, "started_at": sec, "completed_at": sec,
            "duration_ms": 25, "time_to_first_token_ms": 19,
        }),
    ]
    return [
        {"timestamp": iso_ms(t), "ordinal": k, "type": typ, "payload": payload}
        for k, (typ, t, payload) in enumerate(lines)
    ]


def ensure_template(n: int) -> Path:
    """A cached CODEX_HOME skeleton with n rollouts, one second apart, newest ~1h ago."""
    root = TEMPLATES / f"{TEMPLATE_VERSION}-{n}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    log(f"generating {n:,} synthetic rollouts under {root} ...")
    t = time.perf_counter()
    rng = random.Random(n)
    cwd = "/tmp/bench-synthetic-workspace"
    newest = (int(time.time()) - 3600) * 1000
    made_dirs: set[Path] = set()
    for i in range(n):
        ms = newest - (n - 1 - i) * 1000 + rng.randrange(0, 900)
        thread_id = uuid7(ms, rng)
        turn_id = uuid7(ms, rng)
        when = dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
        d = root / "sessions" / when.strftime("%Y/%m/%d")
        if d not in made_dirs:
            d.mkdir(parents=True, exist_ok=True)
            made_dirs.add(d)
        path = d / f"rollout-{when.strftime('%Y-%m-%dT%H-%M-%S')}-{thread_id}.jsonl"
        body = "".join(
            json.dumps(line, separators=(",", ":")) + "\n"
            for line in rollout_lines(thread_id, turn_id, ms, i, cwd, rng)
        )
        path.write_text(body)
        os.utime(path, ns=((ms + 25) * 1_000_000, (ms + 25) * 1_000_000))
    (root / ".complete").write_text(f"{n}\n")
    log(f"generated {n:,} rollouts in {time.perf_counter() - t:.1f}s")
    return root


# ---------------------------------------------------------------------------------------------
# locating binaries


def ensure_file_tree(n: int) -> Path:
    """A source-like tree of `n` files (cached): 1% of directories are git-ignored build output,
    so a search that honours .gitignore sees about 99% of them."""
    root = TEMPLATES / f"fuzzy-{n}"
    done = root / ".complete"
    if done.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    rng = random.Random(7)
    words = ["main", "util", "widget", "config", "parser", "server", "client", "readme", "test",
             "handler", "model", "store", "index", "render", "layout", "theme", "auth", "cache"]
    exts = [".rs", ".py", ".ts", ".md", ".json", ".toml"]
    per_dir = 100
    t = time.perf_counter()
    (root).mkdir(parents=True)
    (root / ".gitignore").write_text("build_out/\n")
    for d in range(n // per_dir):
        top = "build_out" if d % 100 == 99 else f"src{d % 37}"
        folder = root / top / f"mod{d}" / rng.choice(["tst", "lib", "api", "ui"])
        folder.mkdir(parents=True, exist_ok=True)
        for f in range(per_dir):
            name = f"{rng.choice(words)}_{rng.randrange(1000)}_{d}_{f}{rng.choice(exts)}"
            (folder / name).touch()
    done.touch()
    log(f"generated a {n}-file tree in {time.perf_counter() - t:.1f}s")
    return root


def ensure_ours(path: str | None) -> tuple[Path, Path]:
    ours = Path(path) if path else TARGET / "release" / "codex"
    mock = TARGET / "release" / "codex-mock-model"
    if not ours.exists() or not mock.exists():
        log("building release binaries (cargo build --release -p codex-cli -p codex-mock-model)")
        subprocess.run(
            ["cargo", "build", "--release", "-p", "codex-cli", "-p", "codex-mock-model"],
            cwd=REPO, check=True, timeout=3600,
        )
    for p in (ours, mock):
        if not p.exists():
            sys.exit(f"missing binary {p}")
    return ours.resolve(), mock.resolve()


def ensure_official(path: str | None) -> Path:
    if path:
        return Path(path).resolve()
    py = OFFICIAL_VENV / "bin" / "python"
    probe = "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())"

    def locate() -> Path | None:
        if not py.exists():
            return None
        r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, timeout=60)
        p = Path(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else None
        if p is None or not p.exists():
            found = list(OFFICIAL_VENV.glob("lib/python*/site-packages/codex_cli_bin/bin/codex"))
            p = found[0] if found else None
        return p

    p = locate()
    if p is None:
        log(f"installing {OFFICIAL_PKG} into {OFFICIAL_VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(OFFICIAL_VENV)], check=True, timeout=300)
        subprocess.run([str(py), "-m", "pip", "install", "-q", OFFICIAL_PKG], check=True,
                       timeout=1800)
        p = locate()
    if p is None:
        sys.exit("cannot locate the official codex binary")
    return p.resolve()


def version_of(binary: Path) -> str:
    try:
        r = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except Exception as e:
        return f"unknown ({e})"


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}{mem}, " \
           f"Linux {platform.release()}"


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller counts, no 100k thread/list")
    ap.add_argument("--ours", help="our codex binary (default target/release/codex)")
    ap.add_argument("--official", help="official codex binary (default: from the bench venv)")
    ap.add_argument("--only", help=f"comma-separated phases: {', '.join(PHASES)}")
    ap.add_argument("--out", default=str(REPO / "bench" / "results.md"), help="results file")
    args = ap.parse_args()

    phases = PHASES
    if args.only:
        phases = [p.strip() for p in args.only.split(",") if p.strip()]
        unknown = [p for p in phases if p not in PHASES]
        if unknown:
            ap.error(f"unknown phase(s) {unknown}; choose from {PHASES}")

    ours, mock_bin = ensure_ours(args.ours)
    # Private copies: the shared target dir may be rebuilt by someone else mid-run.
    private = fresh_dir("bin-")
    shutil.copy2(ours, private / "codex")
    shutil.copy2(mock_bin, private / "codex-mock-model")
    ours_src, ours, mock_bin = ours, private / "codex", private / "codex-mock-model"
    official = ensure_official(args.official)
    bins = {"ours": ours, "official": official}
    res = Results()
    bench = Bench(args, bins, mock_bin, res)
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    table_fns = {
        "cold_start": bench.cold_start,
        "thread_start": bench.thread_start_phase,
        "turn": bench.turn_phase,
        "concurrent": bench.concurrent_phase,
        "stream": bench.stream_phase,
        "list": bench.list_phase,
        "fuzzy": bench.fuzzy_phase,
        "size": bench.size_phase,
    }
    for p in phases:
        log(f"phase {p}")
        try:
            table_fns[p]()
        except Exception as e:
            res.note(f"phase {p} aborted: {type(e).__name__}: {e}")
    elapsed = time.perf_counter() - t0

    header = [
        "# Benchmark results",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')} (run took {elapsed:.0f} s)",
        f"- Machine: {machine()}",
        "- Load average (1/5/15 min) at start: "
        + "/".join(f"{x:.2f}" for x in load_before)
        + ", at end: "
        + "/".join(f"{x:.2f}" for x in os.getloadavg())
        + " (other work on the machine adds noise to the small figures)",
        f"- Mode: {'--quick' if args.quick else 'full'}"
        + (f", only {','.join(phases)}" if args.only else ""),
        f"- ours: `{ours_src}` ({version_of(ours)}, copied aside for the run)",
        f"- official: `{official}` ({version_of(official)})",
        "- Ratio = official / ours: above 1 means ours is faster / smaller.",
        "",
    ]
    out = "\n".join(header) + "\n" + res.table() + "\n"
    if res.details:
        out += ("\n## Distributions (ms)\n\n| Figure | binary | n | min | median | p90 | max |\n"
                "|---|---|---:|---:|---:|---:|---:|\n" + "\n".join(res.details) + "\n")
    notes = res.notes + res.stderr_notes()
    if notes:
        out += "\n## Observations\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"
    print(out)
    Path(args.out).write_text(out)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
