#!/usr/bin/env python3
"""Thread store benchmark: `thread/list` first page and `thread/start` latency of our
`codex app-server` over 1,000 and 100,000 threads, with the embedded store (rollout files plus
the SQLite index under CODEX_HOME) side by side with the PostgreSQL store
(`[thread_store] backend = "postgres"`). Prints a Markdown table and writes
bench/results-store.md. Python 3.11 standard library only; reuses bench/run.py's client.

Usage: python3 bench/store.py [--quick] [--ours PATH] [--out FILE]

Without CODEX_TEST_PG_URL the script re-runs itself under scripts/with-postgres with
CODEX_PG_DURABLE=1: a throwaway PostgreSQL with its durable defaults (fsync and synchronous
commit on), on loopback on the same machine. Both backends get the same synthetic threads
(bench/run.py's official-format rollouts): hard-linked files for the embedded store, the same
lines loaded with COPY for PostgreSQL.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import run as b  # bench/run.py: Server, Mock, synthetic rollouts, cleanup of children

REPO = b.REPO
BACKENDS = ["embedded", "postgres"]
LABEL = {"embedded": "embedded", "postgres": "PostgreSQL"}


def psql_bin() -> str:
    pg_bin = os.environ.get("CODEX_TEST_PG_BIN", "")
    for candidate in [Path(pg_bin) / "psql", shutil.which("psql")]:
        if candidate and Path(candidate).exists():
            return str(candidate)
    sys.exit("psql not found (it comes with PostgreSQL's client package)")


def psql(url: str, sql: str) -> str:
    r = subprocess.run(
        [psql_bin(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
        capture_output=True, timeout=b.LONG_TIMEOUT, check=False,
    )
    if r.returncode != 0:
        raise RuntimeError(f"psql {sql[:60]!r}: {r.stderr.decode(errors='replace')}")
    return r.stdout.decode()


def database_url(name: str) -> str:
    server = os.environ["CODEX_TEST_PG_URL"]
    return server.rsplit("/", 1)[0] + "/" + name


def synthetic_threads(n: int):
    """The threads of bench/run.py's template of size n (same ids, times and lines)."""
    rng = random.Random(n)
    cwd = "/tmp/bench-synthetic-workspace"
    newest = (int(time.time()) - 3600) * 1000
    for i in range(n):
        ms = newest - (n - 1 - i) * 1000 + rng.randrange(0, 900)
        thread_id = b.uuid7(ms, rng)
        turn_id = b.uuid7(ms, rng)
        yield i, ms, thread_id, b.rollout_lines(thread_id, turn_id, ms, i, cwd, rng)


def copy_csv(url: str, table: str, columns: str, rows) -> None:
    """COPY rows into table through psql, in chunks so memory stays flat."""
    proc = subprocess.Popen(
        [psql_bin(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c",
         f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    b._CHILDREN.append(proc)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for k, row in enumerate(rows, 1):
        writer.writerow(row)
        if k % 20_000 == 0:
            proc.stdin.write(buf.getvalue().encode())
            buf.seek(0)
            buf.truncate()
    proc.stdin.write(buf.getvalue().encode())
    proc.stdin.close()
    err = proc.stderr.read().decode(errors="replace")
    if proc.wait(timeout=b.LONG_TIMEOUT) != 0:
        raise RuntimeError(f"COPY {table}: {err}")


class StoreBench:
    def __init__(self, codex: Path, mock_bin: Path, quick: bool):
        self.codex = codex
        self.mock = b.Mock(mock_bin, "ok")
        self.workspace = b.fresh_dir("store-ws-")
        self.quick = quick
        self.rows: list[tuple[str, dict[str, float | str]]] = []
        self.details: list[str] = []
        self.notes: list[str] = []

    def add(self, metric: str, backend: str, seconds: float | str) -> None:
        for m, vals in self.rows:
            if m == metric:
                vals[backend] = seconds
                return
        self.rows.append((metric, {backend: seconds}))

    def detail(self, metric: str, backend: str, samples: list[float]) -> None:
        ms = sorted(x * 1000 for x in samples)
        p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
        self.details.append(f"| {metric} | {LABEL[backend]} | {len(ms)} | {ms[0]:.2f} | "
                            f"{statistics.median(ms):.2f} | {p90:.2f} | {ms[-1]:.2f} |")

    # -- setting up a store of n threads

    def embedded_home(self, n: int) -> tuple[Path, list[str]]:
        template = b.ensure_template(n)
        home = b.fresh_dir(f"store{n}-embedded-")
        subprocess.run(["cp", "-al", str(template / "sessions"), str(home / "sessions")],
                       check=True, timeout=b.LONG_TIMEOUT)
        return home, []

    def postgres_home(self, n: int) -> tuple[Path, list[str]]:
        name = f"bench_store_{n}_{os.getpid()}"
        psql(database_url("postgres"), f"CREATE DATABASE {name}")
        url = database_url(name)
        args = ["-c", 'thread_store.backend="postgres"', "-c", f'thread_store.url="{url}"']
        home = b.fresh_dir(f"store{n}-postgres-")
        # One server start creates the schema (migrations); then the threads go in with COPY.
        srv = b.Server(self.codex, self.mock.url, home, self.workspace, args)
        try:
            srv.initialize()
            srv.request("thread/list", {"limit": 1})
        finally:
            srv.close()
        t = time.perf_counter()
        threads = list(synthetic_threads(n))
        copy_csv(url, "codex_threads",
                 "id, archived, created_at, updated_at, cwd, model_provider, model, source, "
                 "cli_version, originator, preview, next_ordinal, seq",
                 ([tid, "f", ms // 1000, ms // 1000, "/tmp/bench-synthetic-workspace", "mock",
                   "mock-model", '"vscode"', "0.163.0", "codex_python_sdk",
                   f"Synthetic thread {i}: please say hello.", len(lines), i + 1]
                  for i, ms, tid, lines in threads))
        copy_csv(url, "codex_thread_lines", "thread_id, ordinal, ts, kind, payload",
                 ([tid, line["ordinal"], line["timestamp"], line["type"],
                   json.dumps(line["payload"], separators=(",", ":"))]
                  for _, _, tid, lines in threads for line in lines))
        psql(url, f"UPDATE codex_write_seq SET n = {n}")
        psql(url, "ANALYZE")
        b.log(f"postgres: loaded {n:,} threads ({n * 6:,} lines) in "
              f"{time.perf_counter() - t:.1f}s")
        return home, args

    # -- one backend at one size

    def measure(self, backend: str, n: int) -> None:
        k = f"{n:,}"
        home, args = (self.embedded_home if backend == "embedded" else self.postgres_home)(n)
        try:
            for run in ("first start", "restart"):
                srv = b.Server(self.codex, self.mock.url, home, self.workspace, args)
                try:
                    srv.initialize(b.LONG_TIMEOUT)
                    rid, _ = srv.send("thread/list", {"limit": 25})
                    first, t_first = srv.wait_response(rid, b.LONG_TIMEOUT)
                    self.add(f"thread/list {k}: spawn → first page ({run})", backend,
                             t_first - srv.t_spawn)
                    if len(first["data"]) != 25:
                        self.notes.append(f"{backend}: first page at {k} had "
                                          f"{len(first['data'])} threads")
                    if run == "first start":
                        reps = 10 if self.quick else 20
                        pages = [srv.request("thread/list", {"limit": 25})[1]
                                 for _ in range(reps)]
                        metric = f"thread/list {k}: first page, steady state (median of {reps})"
                        self.add(metric, backend, statistics.median(pages))
                        self.detail(metric, backend, pages)
                        self.walk(srv, backend, n, k)
                    else:
                        # New threads only after the restart figure: they change the embedded
                        # store's newest date directory, which the next open would re-list.
                        starts = [self.thread_start(srv) for _ in range(31)]
                        self.add(f"thread/start over {k} threads: the first", backend,
                                 starts[0])
                        metric = f"thread/start over {k} threads (median of 30)"
                        self.add(metric, backend, statistics.median(starts[1:]))
                        self.detail(metric, backend, starts[1:])
                finally:
                    bad = [ln for ln in srv.stderr_tail if "ERROR" in ln or "panic" in ln]
                    if bad:
                        self.notes.append(f"{backend} stderr at {k} ({run}): {bad[:3]}")
                    srv.close()
        finally:
            b.drop_dir(home)

    def walk(self, srv: b.Server, backend: str, n: int, k: str) -> None:
        t0 = time.perf_counter()
        cursor, seen, dup, pages = None, set(), 0, 0
        while True:
            params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
            page, _ = srv.request("thread/list", params, b.LONG_TIMEOUT)
            pages += 1
            for th in page["data"]:
                dup += th["id"] in seen
                seen.add(th["id"])
            cursor = page.get("nextCursor")
            if not cursor:
                break
        self.add(f"thread/list {k}: full walk, limit 100", backend, time.perf_counter() - t0)
        if len(seen) != n or dup:
            self.notes.append(f"{backend}: full walk at {k} saw {len(seen)} distinct threads "
                              f"(expected {n}), {dup} duplicates")

    def thread_start(self, srv: b.Server) -> float:
        _, seconds = srv.request("thread/start", {"cwd": str(self.workspace),
                                                  "approvalPolicy": "never",
                                                  "sandbox": "read-only"})
        return seconds

    def table(self) -> str:
        lines = ["| Figure | embedded | PostgreSQL | PostgreSQL / embedded |",
                 "|---|---:|---:|---:|"]
        for metric, vals in self.rows:
            e, p = vals.get("embedded"), vals.get("postgres")
            rel = f"{p / e:.2f}x" if isinstance(e, float) and isinstance(p, float) and e else "n/a"
            lines.append(f"| {metric} | {b.fmt(e, 'ms')} | {b.fmt(p, 'ms')} | {rel} |")
        return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 threads only")
    ap.add_argument("--ours", help="our codex binary (default target/release/codex)")
    ap.add_argument("--out", default=str(REPO / "bench" / "results-store.md"))
    args = ap.parse_args()
    if "CODEX_TEST_PG_URL" not in os.environ:
        env = dict(os.environ, CODEX_PG_DURABLE="1")
        script = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
        os.execvpe(str(REPO / "scripts" / "with-postgres"),
                   [str(REPO / "scripts" / "with-postgres"), *script], env)

    ours, mock_bin = b.ensure_ours(args.ours)
    private = b.fresh_dir("store-bin-")
    shutil.copy2(ours, private / "codex")
    shutil.copy2(mock_bin, private / "codex-mock-model")
    bench = StoreBench(private / "codex", private / "codex-mock-model", args.quick)
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    try:
        for n in [1000] if args.quick else [1000, 100_000]:
            for backend in BACKENDS:
                b.log(f"{backend} at {n:,} threads")
                try:
                    bench.measure(backend, n)
                except Exception as e:  # a failed figure is reported, the run goes on
                    bench.notes.append(f"{backend} at {n:,} aborted: {type(e).__name__}: {e}")
    finally:
        bench.mock.close()
    pg_version = psql(database_url("postgres"), "SHOW server_version").strip()
    out = "\n".join([
        "# Thread store benchmark: embedded vs PostgreSQL",
        "",
        f"- Date: {started.strftime('%Y-%m-%d %H:%M UTC')} "
        f"(run took {time.perf_counter() - t0:.0f} s)",
        f"- Machine: {b.machine()}",
        "- Load average at start: " + "/".join(f"{x:.2f}" for x in load_before)
        + ", at end: " + "/".join(f"{x:.2f}" for x in os.getloadavg()),
        f"- ours: `{ours}` ({b.version_of(private / 'codex')})",
        f"- PostgreSQL {pg_version} on loopback (same machine), durable defaults (fsync and "
        "synchronous_commit on), the server's pool of 8 connections",
        "- Synthetic official-format threads (6 lines each), the same in both stores; pages of "
        "25 (`limit 25`), walks of 100; `thread/start` with `{cwd, approvalPolicy, sandbox}`.",
        "",
        bench.table(),
        "",
        "## Distributions (ms)",
        "",
        "| Figure | store | n | min | median | p90 | max |",
        "|---|---|---:|---:|---:|---:|---:|",
        *bench.details,
    ]) + "\n"
    if bench.notes:
        out += "\n## Observations\n\n" + "\n".join(f"- {n}" for n in bench.notes) + "\n"
    print(out)
    Path(args.out).write_text(out)
    b.log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
