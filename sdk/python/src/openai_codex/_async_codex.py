"""asyncio public API: `AsyncCodex`, `AsyncThread`, `AsyncTurnHandle`.

Mirrors `_codex.py` method for method; both build params with `_params` and
results with `_collector`, so only the awaiting differs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import TypeVar

from pydantic import BaseModel

from . import _params as params
from ._approvals import ApprovalDecision, ApprovalHandler, check_default
from ._async_client import AsyncConnection, AsyncTurnSubscription
from ._collector import TurnCollector, TurnResult, is_turn_completed
from ._config import CodexConfig
from ._handshake import initialize_params, parse_initialize
from ._inputs import Input, RunInput
from ._options import ApprovalMode, Sandbox
from .errors import CodexError, TransportClosedError
from .generated.v2_all import (
    GetAccountResponse,
    LoginAccountResponse,
    LogoutAccountResponse,
    ModelListResponse,
    Personality,
    ReasoningEffort,
    ReasoningSummary,
    SortDirection,
    ThreadArchiveResponse,
    ThreadCompactStartResponse,
    ThreadForkResponse,
    ThreadListCwdFilter,
    ThreadListResponse,
    ThreadReadResponse,
    ThreadResumeResponse,
    ThreadSetNameResponse,
    ThreadSortKey,
    ThreadSource,
    ThreadSourceKind,
    ThreadStartResponse,
    ThreadStartSource,
    ThreadUnarchiveResponse,
    TurnInterruptResponse,
    TurnStartResponse,
    TurnSteerResponse,
)
from .models import InitializeResponse, JsonObject, Notification

ModelT = TypeVar("ModelT", bound=BaseModel)


class _NotStartedError(CodexError, RuntimeError):
    """`AsyncCodex.metadata` read before the client started."""


class AsyncCodex:
    """asyncio client. The app-server starts on `async with` or the first awaited call.

    `approval_handler(method, params)` may be a plain or `async` function, or
    return a future; see `ApprovalHandler`.
    """

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        approval_handler: ApprovalHandler | None = None,
        approval_default: ApprovalDecision = "accept",
    ) -> None:
        self._config = config or CodexConfig()
        self._handler = approval_handler
        self._default = check_default(approval_default)
        self._conn: AsyncConnection | None = None
        self._init: InitializeResponse | None = None
        self._init_lock: asyncio.Lock | None = None
        # The connection still initializing, and a counter bumped by every close():
        # a close() during initialization stops that connection and voids its result.
        self._opening: AsyncConnection | None = None
        self._closes = 0

    async def __aenter__(self) -> AsyncCodex:
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
            conn = await AsyncConnection.open(
                self._config, approval_handler=self._handler, approval_default=self._default
            )
            self._opening = conn
            try:
                if closes != self._closes:
                    raise TransportClosedError("Codex client was closed")
                result = await conn.request("initialize", initialize_params(self._config))
                init = parse_initialize(result)
                await conn.notify("initialized")
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

    async def _call(self, method: str, body: JsonObject | None, model: type[ModelT]) -> ModelT:
        conn = await self._connection()
        return await conn.request_model(method, body, model)

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

    # -- account ------------------------------------------------------------------

    async def account(self, *, refresh_token: bool = False) -> GetAccountResponse:
        """Read the current account state."""
        return await self._call(
            "account/read", params.account_read(refresh_token), GetAccountResponse
        )

    async def login_api_key(self, api_key: str) -> None:
        """Log in with an API key."""
        await self._call("account/login/start", params.login_api_key(api_key), LoginAccountResponse)

    async def logout(self) -> None:
        """Log out of the current account."""
        await self._call("account/logout", None, LogoutAccountResponse)

    # -- threads ------------------------------------------------------------------

    async def thread_start(
        self,
        *,
        approval_mode: ApprovalMode = ApprovalMode.auto_review,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_name: str | None = None,
        service_tier: str | None = None,
        session_start_source: ThreadStartSource | None = None,
        thread_source: ThreadSource | None = None,
    ) -> AsyncThread:
        """Start a new thread."""
        body = params.thread_start(
            approval_mode=approval_mode,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            model_provider=model_provider,
            personality=personality,
            sandbox=sandbox,
            service_name=service_name,
            service_tier=service_tier,
            session_start_source=session_start_source,
            thread_source=thread_source,
        )
        started = await self._call("thread/start", body, ThreadStartResponse)
        return AsyncThread(self, started.thread.id)

    async def thread_list(
        self,
        *,
        archived: bool | None = None,
        cursor: str | None = None,
        cwd: ThreadListCwdFilter | None = None,
        limit: int | None = None,
        model_providers: list[str] | None = None,
        search_term: str | None = None,
        section_id: str | None = None,
        sort_direction: SortDirection | None = None,
        sort_key: ThreadSortKey | None = None,
        source_kinds: list[ThreadSourceKind] | None = None,
        use_state_db_only: bool | None = None,
    ) -> ThreadListResponse:
        """List stored threads (one page)."""
        body = params.thread_list(
            archived=archived,
            cursor=cursor,
            cwd=cwd,
            limit=limit,
            model_providers=model_providers,
            search_term=search_term,
            section_id=section_id,
            sort_direction=sort_direction,
            sort_key=sort_key,
            source_kinds=source_kinds,
            use_state_db_only=use_state_db_only,
        )
        return await self._call("thread/list", body, ThreadListResponse)

    async def thread_resume(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
    ) -> AsyncThread:
        """Load a stored thread so new turns can run on it."""
        body = params.thread_resume(
            thread_id,
            approval_mode=approval_mode,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            include_turns=include_turns,
            model=model,
            model_provider=model_provider,
            personality=personality,
            sandbox=sandbox,
            service_tier=service_tier,
        )
        resumed = await self._call("thread/resume", body, ThreadResumeResponse)
        return AsyncThread(self, resumed.thread.id)

    async def thread_fork(
        self,
        thread_id: str,
        *,
        approval_mode: ApprovalMode | None = None,
        base_instructions: str | None = None,
        config: JsonObject | None = None,
        cwd: str | None = None,
        developer_instructions: str | None = None,
        ephemeral: bool | None = None,
        include_turns: bool | None = None,
        model: str | None = None,
        model_provider: str | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        thread_source: ThreadSource | None = None,
    ) -> AsyncThread:
        """Create a new thread that continues from an existing one."""
        body = params.thread_fork(
            thread_id,
            approval_mode=approval_mode,
            base_instructions=base_instructions,
            config=config,
            cwd=cwd,
            developer_instructions=developer_instructions,
            ephemeral=ephemeral,
            include_turns=include_turns,
            model=model,
            model_provider=model_provider,
            sandbox=sandbox,
            service_tier=service_tier,
            thread_source=thread_source,
        )
        forked = await self._call("thread/fork", body, ThreadForkResponse)
        return AsyncThread(self, forked.thread.id)

    async def thread_read(
        self, thread_id: str, *, include_turns: bool = False
    ) -> ThreadReadResponse:
        """Read a thread by id, optionally with its turns."""
        return await AsyncThread(self, thread_id).read(include_turns=include_turns)

    async def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        """Archive a stored thread."""
        return await self._call(
            "thread/archive", params.thread_id_only(thread_id), ThreadArchiveResponse
        )

    async def thread_unarchive(self, thread_id: str) -> AsyncThread:
        """Restore an archived thread."""
        restored = await self._call(
            "thread/unarchive", params.thread_id_only(thread_id), ThreadUnarchiveResponse
        )
        return AsyncThread(self, restored.thread.id)

    async def models(self, *, include_hidden: bool = False) -> ModelListResponse:
        """List the models the server offers."""
        return await self._call("model/list", params.model_list(include_hidden), ModelListResponse)


class AsyncThread:
    """A conversation thread on an `AsyncCodex` client."""

    __slots__ = ("_codex", "id")

    def __init__(self, _codex: AsyncCodex, id: str) -> None:
        self._codex = _codex
        self.id = id

    def __repr__(self) -> str:
        return f"AsyncThread(id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, AsyncThread) and other._codex is self._codex and other.id == self.id
        )

    def __hash__(self) -> int:
        return hash(self.id)

    async def run(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> TurnResult:
        """Run one turn to completion and return its collected result."""
        handle = await self.turn(
            input,
            approval_mode=approval_mode,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            sandbox=sandbox,
            service_tier=service_tier,
            source=source,
            summary=summary,
            turn_service_tier=turn_service_tier,
        )
        return await handle.run()

    async def turn(
        self,
        input: RunInput,
        *,
        approval_mode: ApprovalMode | None = None,
        cwd: str | None = None,
        effort: ReasoningEffort | None = None,
        model: str | None = None,
        output_schema: JsonObject | None = None,
        personality: Personality | None = None,
        sandbox: Sandbox | None = None,
        service_tier: str | None = None,
        source: str | None = None,
        summary: ReasoningSummary | None = None,
        turn_service_tier: str | None = None,
    ) -> AsyncTurnHandle:
        """Start a turn (or join the active one) and return its handle."""
        body = params.turn_start(
            self.id,
            input,
            approval_mode=approval_mode,
            cwd=cwd,
            effort=effort,
            model=model,
            output_schema=output_schema,
            personality=personality,
            sandbox=sandbox,
            service_tier=service_tier,
            source=source,
            summary=summary,
            turn_service_tier=turn_service_tier,
        )
        conn = await self._codex._connection()
        result, subscription = await conn.start_turn(body)
        started = TurnStartResponse.model_validate(result)
        return AsyncTurnHandle(self._codex, self.id, started.turn.id, _subscription=subscription)

    async def read(self, *, include_turns: bool = False) -> ThreadReadResponse:
        """Read this thread, optionally with its turns and items."""
        return await self._codex._call(
            "thread/read", params.thread_read(self.id, include_turns), ThreadReadResponse
        )

    async def set_name(self, name: str) -> ThreadSetNameResponse:
        """Set the thread's user-facing name."""
        return await self._codex._call(
            "thread/name/set", params.thread_set_name(self.id, name), ThreadSetNameResponse
        )

    async def compact(self) -> ThreadCompactStartResponse:
        """Start compacting the thread's history (runs as a separate turn)."""
        return await self._codex._call(
            "thread/compact/start", params.thread_id_only(self.id), ThreadCompactStartResponse
        )


class AsyncTurnHandle:
    """A started turn: stream its notifications, await it, steer or interrupt it."""

    __slots__ = ("_codex", "_subscription", "id", "thread_id")

    def __init__(
        self,
        _codex: AsyncCodex,
        thread_id: str,
        id: str,
        *,
        _subscription: AsyncTurnSubscription | None = None,
    ) -> None:
        self._codex = _codex
        self.thread_id = thread_id
        self.id = id
        # A handle built by hand subscribes when first streamed (it needs the loop).
        self._subscription = _subscription

    def __repr__(self) -> str:
        return f"AsyncTurnHandle(thread_id={self.thread_id!r}, id={self.id!r})"

    async def steer(self, input: Input | str) -> TurnSteerResponse:
        """Add user input to this turn while it runs."""
        return await self._codex._call(
            "turn/steer", params.turn_steer(self.thread_id, self.id, input), TurnSteerResponse
        )

    async def interrupt(self) -> TurnInterruptResponse:
        """Ask the server to stop this turn; it then completes as `interrupted`."""
        return await self._codex._call(
            "turn/interrupt",
            params.turn_interrupt(self.thread_id, self.id),
            TurnInterruptResponse,
        )

    async def stream(self) -> AsyncGenerator[Notification, None]:
        """Yield this turn's notifications, ending after its `turn/completed`."""
        if self._subscription is None:
            conn = await self._codex._connection()
            self._subscription = conn.subscribe(self.id)
        subscription = self._subscription
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
