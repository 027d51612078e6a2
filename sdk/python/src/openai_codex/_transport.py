"""The only I/O of the SDK: the app-server child process and its three pipes.

`SubprocessTransport` (threads, blocking pipes) serves `Codex`;
`AsyncSubprocessTransport` (asyncio subprocess) serves `AsyncCodex`. Both keep
the last 400 stderr lines for error messages and shut down the same way:
close stdin (the server exits on EOF), wait up to 2 s, terminate, wait, kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
from collections import deque
from typing import IO

from .errors import TransportClosedError

STDERR_LINES = 400
SHUTDOWN_GRACE_S = 2.0
# Lines can be large (thread/read with full turns); asyncio's default 64 KiB
# line limit would break them.
_ASYNC_LINE_LIMIT = 256 * 1024 * 1024


class StderrTail:
    """Bounded ring of the server's most recent stderr lines (thread-safe appends)."""

    def __init__(self, max_lines: int = STDERR_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)

    def add(self, raw: bytes) -> None:
        self._lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    def text(self) -> str:
        return "\n".join(list(self._lines))


class SubprocessTransport:
    """Blocking line transport over a child process."""

    def __init__(self, argv: list[str], *, cwd: str | None, env: dict[str, str]) -> None:
        self.stderr = StderrTail()
        self._write_lock = threading.Lock()
        # A launch OSError (e.g. FileNotFoundError) propagates unchanged. Pipes
        # are buffered: an unbuffered readline would read one byte per syscall.
        self._proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
        )
        self._stdout: IO[bytes] = self._require(self._proc.stdout)
        self._stdin: IO[bytes] = self._require(self._proc.stdin)
        self._stderr_pipe = self._require(self._proc.stderr)
        self._stderr_thread = threading.Thread(
            target=self._drain_stderr, args=(self._stderr_pipe,), name="codex-stderr", daemon=True
        )
        self._stderr_thread.start()

    @staticmethod
    def _require(pipe: IO[bytes] | None) -> IO[bytes]:
        if pipe is None:
            raise TransportClosedError("child process has no pipe")
        return pipe

    def _drain_stderr(self, pipe: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for line in iter(pipe.readline, b""):
                self.stderr.add(line)

    def write_line(self, data: bytes) -> None:
        try:
            with self._write_lock:
                self._stdin.write(data)
                self._stdin.flush()
        except (OSError, ValueError) as exc:
            raise self.closed_error("could not write to the Codex app-server") from exc

    def read_line(self) -> bytes:
        """Next stdout line; b"" at end of stream."""
        try:
            return self._stdout.readline()
        except (OSError, ValueError):
            return b""

    def closed_error(self, message: str) -> TransportClosedError:
        """An error carrying the stderr tail; waits briefly so the tail is complete."""
        self._stderr_thread.join(timeout=1.0)
        returncode: int | None = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            returncode = self._proc.wait(timeout=0.5)
        return TransportClosedError(message, stderr_tail=self.stderr.text(), returncode=returncode)

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError), self._write_lock:
            self._stdin.close()
        try:
            self._proc.wait(timeout=SHUTDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=SHUTDOWN_GRACE_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._stderr_thread.join(timeout=1.0)
        for pipe in (self._stdout, self._stderr_pipe):
            with contextlib.suppress(OSError, ValueError):
                pipe.close()


class AsyncSubprocessTransport:
    """asyncio line transport over a child process."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.stderr = StderrTail()
        self._proc = proc
        if proc.stdin is None or proc.stdout is None or proc.stderr is None:
            raise TransportClosedError("child process has no pipe")
        self._stdin = proc.stdin
        self._stdout = proc.stdout
        self._stderr_task = asyncio.ensure_future(self._drain_stderr(proc.stderr))

    @classmethod
    async def spawn(
        cls, argv: list[str], *, cwd: str | None, env: dict[str, str]
    ) -> AsyncSubprocessTransport:
        # A launch OSError (e.g. FileNotFoundError) propagates unchanged.
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=env,
            limit=_ASYNC_LINE_LIMIT,
        )
        return cls(proc)

    async def _drain_stderr(self, pipe: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError, ValueError, asyncio.LimitOverrunError):
            while line := await pipe.readline():
                self.stderr.add(line)

    async def write_line(self, data: bytes) -> None:
        try:
            self._stdin.write(data)
            await self._stdin.drain()
        except (OSError, RuntimeError) as exc:
            raise await self.closed_error("could not write to the Codex app-server") from exc

    async def read_line(self) -> bytes:
        """Next stdout line; b"" at end of stream."""
        try:
            return await self._stdout.readline()
        except (OSError, ValueError):
            return b""

    async def closed_error(self, message: str) -> TransportClosedError:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout=1.0)
        returncode: int | None = None
        with contextlib.suppress(asyncio.TimeoutError):
            returncode = await asyncio.wait_for(self._proc.wait(), timeout=0.5)
        return TransportClosedError(message, stderr_tail=self.stderr.text(), returncode=returncode)

    async def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self._stdin.close()
        try:
            await asyncio.wait_for(self._proc.wait(), timeout=SHUTDOWN_GRACE_S)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), timeout=SHUTDOWN_GRACE_S)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
                await self._proc.wait()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._stderr_task), timeout=1.0)
        if not self._stderr_task.done():
            self._stderr_task.cancel()
