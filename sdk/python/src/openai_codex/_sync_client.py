"""The blocking shell around the shared connection: threads and futures.

One reader thread owns stdout and feeds each line to the core; a response
settles a `concurrent.futures.Future` that the calling thread blocks on, and a
server request runs as a job on a short-lived worker thread, so a slow or
deferred approval (or a tool call) never stalls other traffic. `CodexBase` is
the lifecycle of `Codex`: it starts and initializes the server on construction.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import queue
import threading
from collections.abc import Awaitable
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
from ._transport import SubprocessTransport
from .errors import TransportClosedError
from .generated import methods
from .models import InitializeResponse, JsonObject, JsonValue, Notification

ModelT = TypeVar("ModelT", bound=BaseModel)


class Subscription(SubscriptionBase):
    """A turn's notifications; `next()` blocks the calling thread."""

    def __init__(self, connection: Connection, turn_id: str) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        super().__init__(connection, turn_id, self._queue.put)

    def next(self) -> Notification:
        """Block for the next notification; raises once the turn or connection ended."""
        self._check_readable(self._queue.empty())
        return self._accept(self._queue.get())


async def _settle(answer: Awaitable[Any]) -> Any:
    return await answer


class Connection(ConnectionBase[Subscription]):
    """A started app-server process plus the reader thread that serves it."""

    def __init__(self, config: CodexConfig, responder: Responder) -> None:
        super().__init__(responder)
        env = child_env(config)
        self._transport = SubprocessTransport(launch_argv(config, env), cwd=config.cwd, env=env)
        self.stderr = self._transport.stderr
        self._reader = threading.Thread(target=self._read_loop, name="codex-reader", daemon=True)
        self._reader.start()

    def _new_subscription(self, turn_id: str) -> Subscription:
        return Subscription(self, turn_id)

    def request(self, method: str, params: JsonObject | None) -> JsonValue:
        future: concurrent.futures.Future[JsonValue] = concurrent.futures.Future()
        request_id, line = self._register(method, params, future)
        try:
            self._transport.write_line(line)
        except BaseException:
            self._forget(request_id)
            raise
        return future.result()

    def request_model(self, method: str, params: JsonObject | None, model: type[ModelT]) -> ModelT:
        return proto.parse_result(method, self.request(method, params), model)

    def notify(self, method: str, params: JsonObject | None = None) -> None:
        self._transport.write_line(proto.encode(proto.notification_message(method, params)))

    def _read_loop(self) -> None:
        while line := self._transport.read_line():
            job = self._receive(line)
            if job is not None:
                threading.Thread(target=self._run_job, args=(job,), daemon=True).start()
        error = self._end_of_stream_error() or self._transport.closed_error(
            "Codex app-server closed stdout unexpectedly"
        )
        self._fail_all(error)

    def _run_job(self, job: Job) -> None:
        try:
            answer = job.call()
            if isinstance(answer, concurrent.futures.Future):
                answer = answer.result()
            elif inspect.isawaitable(answer):
                answer = asyncio.run(_settle(answer))
            reply = job.finish(answer)
        except (Exception, *CANCELLED) as exc:
            reply = job.fail(exc)
        # The connection may be gone by the time a deferred answer arrives.
        with contextlib.suppress(TransportClosedError):
            self._transport.write_line(proto.encode(reply))

    def close(self) -> None:
        self._closing = True
        self._transport.close()
        self._reader.join(timeout=5.0)
        self._fail_all(TransportClosedError("Codex client was closed"))


class CodexBase(ClientBase):
    """Lifecycle of the blocking client: the app-server starts on construction."""

    def _open(self) -> None:
        self._conn = Connection(self._config, self._responder)
        try:
            result = self._conn.request(methods.INITIALIZE, initialize_params(self._config))
            self._init = parse_initialize(result)
            self._conn.notify(methods.INITIALIZED)
        except BaseException:
            self._conn.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> Connection:
        return self._conn

    def _subscribe_if_connected(self, turn_id: str) -> Subscription:
        return self._conn.subscribe(turn_id)

    def _call(self, method: str, params: JsonObject | None, model: type[ModelT]) -> ModelT:
        return self._conn.request_model(method, params, model)

    @property
    def metadata(self) -> InitializeResponse:
        """The `initialize` result (`userAgent`, `serverInfo`, ...)."""
        return self._init

    def close(self) -> None:
        """Stop the app-server process (idempotent)."""
        self._conn.close()
