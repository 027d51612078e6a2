#!/usr/bin/env python3
"""Fan-out benchmark: one turn's notifications delivered to 1 and to 10 attached clients.

One `codex app-server --listen unix://SOCKET` (our release build) serves N clients over the unix
socket. Client 0 starts a thread, the others `thread/resume` it (which subscribes them), then
client 0 runs turns whose answer the mock model streams in 2,000 deltas. Every client has a
reader thread that timestamps each line as it arrives. Per turn we record, for each client,
when its `turn/completed` arrived and how many notifications it got.

Figures (median over the turns, side by side for 1 and 10 clients):
- turn/start -> last client's turn/completed
- first -> last client receiving turn/completed (the fan-out spread; 0 with one client)
- per-client throughput: notifications of the turn / (its turn/completed - turn/start send)
- the server's CPU time per turn (user + system, from /proc), which the Python clients'
  own speed does not affect

Python 3.11 standard library only. Usage: python3 bench/fanout.py [--turns 10] [--deltas 2000]
[--clients 10] [--codex PATH] [--mock PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "target"
WAIT = 60.0


class Client:
    """One unix-socket client: writes request lines, a reader thread stamps every line."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.lock = threading.Condition()
        self.lines: list[tuple[float, bytes]] = []
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.file:
            stamp = time.perf_counter()
            with self.lock:
                self.lines.append((stamp, line))
                self.lock.notify_all()

    def send(self, obj: dict) -> None:
        self.sock.sendall(json.dumps(obj).encode() + b"\n")

    def request(self, method: str, params: dict) -> dict:
        self.next_id += 1
        rid = self.next_id
        self.send({"id": rid, "method": method, "params": params})
        needle = f'"id":{rid},'.encode()
        line = self.wait_for(lambda raw: raw.startswith(b"{" + needle) or needle in raw[:40])
        msg = json.loads(line)
        if "error" in msg:
            raise RuntimeError(f"{method}: {msg['error']}")
        return msg["result"]

    def wait_for(self, pred, start: int = 0) -> bytes:
        deadline = time.monotonic() + WAIT
        seen = start
        with self.lock:
            while True:
                for _, raw in self.lines[seen:]:
                    if pred(raw):
                        return raw
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching line")
                self.lock.wait(left)

    def mark(self) -> int:
        with self.lock:
            return len(self.lines)

    def turn_done(self, start: int) -> tuple[float, int]:
        """Waits for turn/completed after line `start`; returns its stamp and the count of
        notifications from `start` to it."""
        self.wait_for(lambda raw: b'"method":"turn/completed"' in raw, start)
        with self.lock:
            for i, (stamp, raw) in enumerate(self.lines[start:]):
                if b'"method":"turn/completed"' in raw:
                    return stamp, i + 1
        raise AssertionError("turn/completed vanished")

    def close(self) -> None:
        self.sock.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(cmd: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)


def run(args: argparse.Namespace, n_clients: int, codex: str, mock_url: str) -> dict:
    home = Path(tempfile.mkdtemp(prefix="fanout-", dir=TARGET))
    sock = str(home / "s.sock")
    env = dict(os.environ, CODEX_HOME=str(home), RUST_LOG="warn")
    provider = (
        f'model_providers.mock={{name="mock", base_url="{mock_url}", wire_api="responses", '
        "request_max_retries=0, stream_max_retries=0}"
    )
    server = start(
        [codex, "-c", 'model="mock-model"', "-c", 'model_provider="mock"', "-c", provider,
         "app-server", "--listen", f"unix://{sock}"],
        env,
    )
    try:
        deadline = time.monotonic() + WAIT
        while not os.path.exists(sock):
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not create its socket")
            time.sleep(0.01)
        clients = [Client(sock) for _ in range(n_clients)]
        for i, c in enumerate(clients):
            c.request("initialize", {"clientInfo": {"name": f"fanout{i}", "version": "1"}})
            c.send({"method": "initialized"})
        thread = clients[0].request(
            "thread/start", {"approvalPolicy": "never", "sandbox": "read-only"}
        )["thread"]["id"]
        for c in clients[1:]:
            c.request("thread/resume", {"threadId": thread})
        totals, spreads, rates, counts = [], [], [], []
        cpu_start = 0.0
        for turn in range(args.turns + 1):  # the first turn warms up and is dropped
            if turn == 1:
                cpu_start = cpu_seconds(server.pid)
            marks = [c.mark() for c in clients]
            sent = time.perf_counter()
            clients[0].send({"id": "turn", "method": "turn/start",
                             "params": {"threadId": thread,
                                        "input": [{"type": "text", "text": "stream"}]}})
            done = [c.turn_done(m) for c, m in zip(clients, marks)]
            stamps = [d[0] for d in done]
            totals.append(max(stamps) - sent)
            spreads.append(max(stamps) - min(stamps))
            rates.append(statistics.median(n / (t - sent) for t, n in done))
            counts.append(min(n for _, n in done))
        cpu_per_turn = (cpu_seconds(server.pid) - cpu_start) / args.turns
        for c in clients:
            c.close()
        return {
            "cpu_ms": cpu_per_turn * 1000,
            "total_ms": statistics.median(totals[1:]) * 1000,
            "spread_ms": statistics.median(spreads[1:]) * 1000,
            "rate": statistics.median(rates[1:]),
            "notifications": min(counts[1:]),
        }
    finally:
        server.stdin.close()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--deltas", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--codex", default=str(TARGET / "release" / "codex"))
    parser.add_argument("--mock", default=str(TARGET / "release" / "codex-mock-model"))
    args = parser.parse_args()
    if not (os.path.exists(args.codex) and os.path.exists(args.mock)):
        subprocess.run(["cargo", "build", "--release", "-p", "codex-cli", "-p", "codex-mock-model"],
                       cwd=REPO, check=True)
    # One character per delta: the mock splits the message into exactly `deltas` pieces.
    text = ("abcdefghij" * (args.deltas // 10 + 1))[: args.deltas]
    mock = start([args.mock, "--port", "0", "--default-message", text,
                  "--deltas", str(args.deltas)])
    try:
        line = mock.stdout.readline().decode().strip()
        if not line.startswith("listening "):
            raise RuntimeError(f"mock: {line!r}")
        url = line.split()[-1]
        one = run(args, 1, args.codex, url)
        many = run(args, args.clients, args.codex, url)
    finally:
        mock.stdin.close()
        mock.kill()
    n = args.clients
    print(f"Fan-out of one {args.deltas}-delta turn (median of {args.turns} turns, unix socket, "
          f"release build; {one['notifications']} notifications per client per turn)\n")
    print(f"| Metric | 1 client | {n} clients |")
    print("|---|---:|---:|")
    print(f"| turn/start -> last client's turn/completed | {one['total_ms']:.2f} ms | "
          f"{many['total_ms']:.2f} ms |")
    print(f"| first -> last client's turn/completed | {one['spread_ms']:.2f} ms | "
          f"{many['spread_ms']:.2f} ms |")
    print(f"| per-client throughput (notifications/s) | {one['rate']:,.0f} | {many['rate']:,.0f} |")
    print(f"| server CPU time per turn (user + system) | {one['cpu_ms']:.1f} ms | "
          f"{many['cpu_ms']:.1f} ms |")
    print(f"| notifications delivered per turn, all clients | {one['notifications']:,} | "
          f"{many['notifications'] * n:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
