"""The asyncio shell around the shared connection: one event loop, tasks and futures.

A reader task owns stdout and feeds each line to the core; a response settles
an `asyncio.Future` the caller awaits, and a server request runs as a job in its
own task (a plain function tool in a worker thread), so nothing blocks the
reader. `AsyncCodexBase` is the lifecycle of `AsyncCodex`: the app-server
starts on `async with` or the first awaited call.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from pydantic import BaseModel
from typing_extensions import Self

from . import _protocol as proto
from ._approvals import CANCELLED
from ._config import CodexConfig, child_env, launch_argv
from ._connection import ClientBase, ConnectionBase, SubscriptionBase
from ._handshake import initialize_params, parse_initialize
from ._server_requests import Job, Responder
from ._transport import AsyncSubprocessTransport
from .errors import CodexError, TransportClosedError
from .generated import methods
from .models import InitializeResponse, JsonObject, JsonValue, Notification

ModelT = TypeVar("ModelT", bound=BaseModel)


class AsyncSubscription(SubscriptionBase):
    """A turn's notifications; `next()` waits on the event loop."""

    def __init__(self, connection: AsyncConnection, turn_id: str) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        super().__init__(connection, turn_id, self._queue.put_nowait)

    async def next(self) -> Notification:
        """Wait for the next notification; raises once the turn or connection ended."""
        self._check_readable(self._queue.empty())
        return self._accept(await self._queue.get())


def _self_cancelled() -> bool:
    """True when the current task was asked to cancel (Python 3.11+ can tell)."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    return bool(cancelling()) if cancelling is not None else False


class AsyncConnection(ConnectionBase[AsyncSubscription]):
    """A started app-server process plus the reader task that serves it."""

    def __init__(self, transport: AsyncSubprocessTransport, responder: Responder) -> None:
        super().__init__(responder)
        self._transport = transport
        self.stderr = transport.stderr
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.ensure_future(self._read_loop())

    @classmethod
    async def open(cls, config: CodexConfig, responder: Responder) -> AsyncConnection:
        env = child_env(config)
        transport = await AsyncSubprocessTransport.spawn(
            launch_argv(config, env), cwd=config.cwd, env=env
        )
        return cls(transport, responder)

    def _new_subscription(self, turn_id: str) -> AsyncSubscription:
        return AsyncSubscription(self, turn_id)

    async def request(self, method: str, params: JsonObject | None) -> JsonValue:
        future: asyncio.Future[JsonValue] = asyncio.get_running_loop().create_future()
        request_id, line = self._register(method, params, future)
        try:
            await self._transport.write_line(line)
            return await future
        finally:
            self._forget(request_id)

    async def request_model(
        self, method: str, params: JsonObject | None, model: type[ModelT]
    ) -> ModelT:
        return proto.parse_result(method, await self.request(method, params), model)

    async def notify(self, method: str, params: JsonObject | None = None) -> None:
        await self._transport.write_line(proto.encode(proto.notification_message(method, params)))

    async def _read_loop(self) -> None:
        while line := await self._transport.read_line():
            job = self._receive(line)
            if job is not None:
                self._spawn(self._run_job(job))
        error = self._end_of_stream_error() or await self._transport.closed_error(
            "Codex app-server closed stdout unexpectedly"
        )
        self._fail_all(error)

    async def _run_job(self, job: Job) -> None:
        try:
            answer = await asyncio.to_thread(job.call) if job.blocking else job.call()
            if isinstance(answer, concurrent.futures.Future):
                answer = await asyncio.wrap_future(answer)
            elif inspect.isawaitable(answer):
                answer = await answer
            reply = job.finish(answer)
        except CANCELLED as exc:
            if self._closing or _self_cancelled():
                raise  # this task itself is being cancelled (shutdown)
            reply = job.fail(exc)
        except Exception as exc:
            reply = job.fail(exc)
        # The connection may be gone by the time a deferred answer arrives.
        with contextlib.suppress(TransportClosedError):
            await self._transport.write_line(proto.encode(reply))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closing = True
        for task in list(self._tasks):
            task.cancel()
        await self._transport.close()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout=5.0)
        if not self._reader.done():
            self._reader.cancel()
        self._fail_all(TransportClosedError("Codex client was closed"))


class _NotStartedError(CodexError, RuntimeError):
    """`AsyncCodex.metadata` read before the client started."""


class AsyncCodexBase(ClientBase):
    """Lifecycle of the asyncio client: the app-server starts on `async with` or
    the first awaited call, and `close()` stops it (also during initialization)."""

    def _open(self) -> None:
        self._conn: AsyncConnection | None = None
        self._init: InitializeResponse | None = None
        self._init_lock: asyncio.Lock | None = None
        # The connection still initializing, and a counter bumped by every close():
        # a close() during initialization stops that connection and voids its result.
        self._opening: AsyncConnection | None = None
        self._closes = 0

    async def __aenter__(self) -> Self:
        await self._connection()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _connection(self) -> AsyncConnection:
        """The initialized connection, starting the server on first use."""
        if self._conn is not None and self._init is not None:
            return self._conn
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            if self._conn is not None and self._init is not None:
                return self._conn
            closes = self._closes
            conn = await AsyncConnection.open(self._config, self._responder)
            self._opening = conn
            try:
                if closes != self._closes:
                    raise TransportClosedError("Codex client was closed")
                result = await conn.request(methods.INITIALIZE, initialize_params(self._config))
                init = parse_initialize(result)
                await conn.notify(methods.INITIALIZED)
                if closes != self._closes:
                    raise TransportClosedError("Codex client was closed")
            except BaseException:
                await conn.close()
                raise
            finally:
                if self._opening is conn:
                    self._opening = None
            self._conn, self._init = conn, init
            return conn

    def _subscribe_if_connected(self, turn_id: str) -> AsyncSubscription | None:
        """Subscribe now when the server runs; otherwise the stream subscribes later."""
        return None if self._conn is None else self._conn.subscribe(turn_id)

    async def _call(self, method: str, params: JsonObject | None, model: type[ModelT]) -> ModelT:
        conn = await self._connection()
        return await conn.request_model(method, params, model)

    @property
    def metadata(self) -> InitializeResponse:
        """The `initialize` result; available once the client has started."""
        if self._init is None:
            raise _NotStartedError(
                "AsyncCodex is not started yet: use `async with AsyncCodex()` "
                "or await any method first"
            )
        return self._init

    async def close(self) -> None:
        """Stop the app-server process (idempotent)."""
        self._closes += 1
        conn, self._conn, self._init = self._conn, None, None
        opening, self._opening = self._opening, None
        for started in (conn, opening):
            if started is not None:
                await started.close()
