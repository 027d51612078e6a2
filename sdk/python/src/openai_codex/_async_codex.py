"""asyncio public API: `AsyncCodex`, `AsyncThread`, `AsyncTurnHandle`.

This file is also the source of the blocking API: `scripts/unasync.py` writes
`_codex.py` from it (`async`/`await` dropped, `Async*` names mapped to their
blocking twins), and `scripts/test` fails when the two drift. Edit this file
and regenerate. Options are declared once in `_options.py`, wire params are
built by `_params.py`, turn results by `_collector.py`; the lifecycle that
differs between the two clients lives in `AsyncCodexBase` / `CodexBase`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence

from typing_extensions import Unpack

from . import _params as params
from ._async_client import AsyncCodexBase, AsyncSubscription
from ._collector import TurnCollector, TurnResult, is_turn_completed
from ._inputs import Input, RunInput
from ._options import (
    ApprovalMode,
    ThreadForkOptions,
    ThreadListOptions,
    ThreadResumeOptions,
    ThreadStartOptions,
    TurnOptions,
)
from ._tools import ToolFunction, Toolset
from .generated import methods
from .generated.v2_all import (
    GetAccountResponse,
    LoginAccountResponse,
    LogoutAccountResponse,
    ModelListResponse,
    ThreadArchiveResponse,
    ThreadCompactStartResponse,
    ThreadForkResponse,
    ThreadListResponse,
    ThreadReadResponse,
    ThreadResumeResponse,
    ThreadSetNameResponse,
    ThreadStartResponse,
    ThreadUnarchiveResponse,
    TurnInterruptResponse,
    TurnSteerResponse,
)
from .models import JsonObject, Notification


class AsyncCodex(AsyncCodexBase):
    """asyncio client. The app-server starts on `async with` or the first awaited call.

    `approval_handler(method, params)` answers server requests (see
    `ApprovalHandler`); it may be a plain or `async` function, or return a
    future. Without one, approvals get `approval_default`.
    """

    # -- account ------------------------------------------------------------------

    async def account(self, *, refresh_token: bool = False) -> GetAccountResponse:
        """Read the current account state."""
        return await self._call(
            methods.ACCOUNT_READ, params.account_read(refresh_token), GetAccountResponse
        )

    async def login_api_key(self, api_key: str) -> None:
        """Log in with an API key."""
        await self._call(
            methods.ACCOUNT_LOGIN_START, params.login_api_key(api_key), LoginAccountResponse
        )

    async def logout(self) -> None:
        """Log out of the current account."""
        await self._call(methods.ACCOUNT_LOGOUT, None, LogoutAccountResponse)

    # -- threads ------------------------------------------------------------------

    async def thread_start(
        self,
        *,
        approval_mode: ApprovalMode = ApprovalMode.auto_review,
        tools: Sequence[ToolFunction] = (),
        **options: Unpack[ThreadStartOptions],
    ) -> AsyncThread:
        """Start a new thread.

        `tools` are plain Python functions (sync or `async`) the model may call;
        this client runs them and returns their results (see `tool()`).
        """
        toolset = self._toolset(tools)
        body = params.thread_start(approval_mode, options, toolset.specs())
        return await self._open_thread(methods.THREAD_START, body, ThreadStartResponse, toolset)

    async def thread_list(self, **options: Unpack[ThreadListOptions]) -> ThreadListResponse:
        """List stored threads (one page)."""
        body = params.thread_list(options)
        return await self._call(methods.THREAD_LIST, body, ThreadListResponse)

    async def thread_resume(
        self,
        thread_id: str,
        *,
        tools: Sequence[ToolFunction] = (),
        **options: Unpack[ThreadResumeOptions],
    ) -> AsyncThread:
        """Load a stored thread so new turns can run on it.

        The thread keeps the tools it was started with; pass the same functions
        as `tools` so this client can answer their calls.
        """
        toolset = self._toolset(tools)
        body = params.thread_resume(thread_id, options)
        return await self._open_thread(methods.THREAD_RESUME, body, ThreadResumeResponse, toolset)

    async def thread_fork(
        self,
        thread_id: str,
        *,
        tools: Sequence[ToolFunction] = (),
        **options: Unpack[ThreadForkOptions],
    ) -> AsyncThread:
        """Create a new thread that continues from an existing one (and keeps its tools)."""
        toolset = self._toolset(tools)
        body = params.thread_fork(thread_id, options)
        return await self._open_thread(methods.THREAD_FORK, body, ThreadForkResponse, toolset)

    async def thread_read(
        self, thread_id: str, *, include_turns: bool = False
    ) -> ThreadReadResponse:
        """Read a thread by id, optionally with its turns."""
        return await AsyncThread(self, thread_id).read(include_turns=include_turns)

    async def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        """Archive a stored thread."""
        body = params.thread_id_only(thread_id)
        return await self._call(methods.THREAD_ARCHIVE, body, ThreadArchiveResponse)

    async def thread_unarchive(self, thread_id: str) -> AsyncThread:
        """Restore an archived thread."""
        body = params.thread_id_only(thread_id)
        response = ThreadUnarchiveResponse
        return await self._open_thread(methods.THREAD_UNARCHIVE, body, response, Toolset())

    async def models(self, *, include_hidden: bool = False) -> ModelListResponse:
        """List the models the server offers."""
        body = params.model_list(include_hidden)
        return await self._call(methods.MODEL_LIST, body, ModelListResponse)

    async def _open_thread(
        self,
        method: str,
        body: JsonObject,
        response: type[ThreadStartResponse]
        | type[ThreadResumeResponse]
        | type[ThreadForkResponse]
        | type[ThreadUnarchiveResponse],
        toolset: Toolset,
    ) -> AsyncThread:
        """Send a request whose response carries a thread; return a handle on it."""
        opened = await self._call(method, body, response)
        return AsyncThread(self, self._adopt_thread(opened.thread.id, toolset))


class AsyncThread:
    """A conversation thread, started or loaded by `AsyncCodex`."""

    __slots__ = ("_codex", "id")

    def __init__(self, _codex: AsyncCodex, id: str) -> None:
        self._codex = _codex
        self.id = id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AsyncThread) and other._codex is self._codex and other.id == self.id
        )

    def __hash__(self) -> int:
        return hash(self.id)

    async def run(self, input: RunInput, **options: Unpack[TurnOptions]) -> TurnResult:
        """Run one turn to completion and return its collected result."""
        handle = await self.turn(input, **options)
        return await handle.run()

    async def turn(self, input: RunInput, **options: Unpack[TurnOptions]) -> AsyncTurnHandle:
        """Start a turn (or join the active one) and return its handle."""
        body = params.turn_start(self.id, input, options)
        conn = await self._codex._connection()
        # Notifications of the turn may arrive before the response that names it.
        mark = conn.begin_turn_start()
        try:
            result = await conn.request(methods.TURN_START, body)
        except BaseException:
            conn.abandon_turn_start(mark)
            raise
        turn_id, subscription = conn.claim_turn(mark, result)
        return AsyncTurnHandle(self._codex, self.id, turn_id, _subscription=subscription)

    async def read(self, *, include_turns: bool = False) -> ThreadReadResponse:
        """Read this thread, optionally with its turns and items."""
        body = params.thread_read(self.id, include_turns)
        return await self._codex._call(methods.THREAD_READ, body, ThreadReadResponse)

    async def set_name(self, name: str) -> ThreadSetNameResponse:
        """Set the thread's user-facing name."""
        body = params.thread_set_name(self.id, name)
        return await self._codex._call(methods.THREAD_NAME_SET, body, ThreadSetNameResponse)

    async def compact(self) -> ThreadCompactStartResponse:
        """Start compacting the thread's history (runs as a separate turn)."""
        body = params.thread_id_only(self.id)
        return await self._codex._call(
            methods.THREAD_COMPACT_START, body, ThreadCompactStartResponse
        )


class AsyncTurnHandle:
    """A started turn: stream its notifications, wait for it, steer or interrupt it."""

    __slots__ = ("_codex", "_subscription", "id", "thread_id")

    def __init__(
        self,
        _codex: AsyncCodex,
        thread_id: str,
        id: str,
        *,
        _subscription: AsyncSubscription | None = None,
    ) -> None:
        self._codex = _codex
        self.thread_id = thread_id
        self.id = id
        if _subscription is None:
            _subscription = _codex._subscribe_if_connected(id)
        self._subscription = _subscription

    def __repr__(self) -> str:
        return f"{type(self).__name__}(thread_id={self.thread_id!r}, id={self.id!r})"

    async def steer(self, input: Input | str) -> TurnSteerResponse:
        """Add user input to this turn while it runs."""
        body = params.turn_steer(self.thread_id, self.id, input)
        return await self._codex._call(methods.TURN_STEER, body, TurnSteerResponse)

    async def interrupt(self) -> TurnInterruptResponse:
        """Ask the server to stop this turn; it then completes as `interrupted`."""
        body = params.turn_interrupt(self.thread_id, self.id)
        return await self._codex._call(methods.TURN_INTERRUPT, body, TurnInterruptResponse)

    async def stream(self) -> AsyncGenerator[Notification, None]:
        """Yield this turn's notifications, ending after its `turn/completed`."""
        subscription = self._subscription
        if subscription is None:
            conn = await self._codex._connection()
            subscription = self._subscription = conn.subscribe(self.id)
        try:
            while True:
                notification = await subscription.next()
                yield notification
                if is_turn_completed(notification, self.id):
                    return
        finally:
            subscription.close()

    async def run(self) -> TurnResult:
        """Consume the stream and return the collected result."""
        collector = TurnCollector(self.id)
        stream = self.stream()
        try:
            async for notification in stream:
                if collector.feed(notification):
                    break
        finally:
            await stream.aclose()
        return collector.result()
