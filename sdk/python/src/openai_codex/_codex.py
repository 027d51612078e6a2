"""Synchronous public API: `Codex`, `Thread`, `TurnHandle`."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType

from . import _params as params
from ._approvals import ApprovalDecision, ApprovalHandler, check_default
from ._collector import TurnCollector, TurnResult, is_turn_completed
from ._config import CodexConfig
from ._handshake import initialize_params, parse_initialize
from ._inputs import Input, RunInput
from ._options import ApprovalMode, Sandbox
from ._sync_client import SyncConnection, TurnSubscription
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


class Codex:
    """Blocking client: starts `codex app-server` and initializes it on construction.

    Use as a context manager so the process is shut down promptly.
    `approval_handler(method, params)` answers server requests (see
    `ApprovalHandler`); without one, approvals get `approval_default`.
    """

    def __init__(
        self,
        config: CodexConfig | None = None,
        *,
        approval_handler: ApprovalHandler | None = None,
        approval_default: ApprovalDecision = "accept",
    ) -> None:
        self._config = config or CodexConfig()
        self._conn = SyncConnection(
            self._config,
            approval_handler=approval_handler,
            approval_default=check_default(approval_default),
        )
        try:
            result = self._conn.request("initialize", initialize_params(self._config))
            self._init = parse_initialize(result)
            self._conn.notify("initialized")
        except BaseException:
            self._conn.close()
            raise

    def __enter__(self) -> Codex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def metadata(self) -> InitializeResponse:
        """The `initialize` result (`userAgent`, `serverInfo`, ...)."""
        return self._init

    def close(self) -> None:
        """Stop the app-server process (idempotent)."""
        self._conn.close()

    # -- account ------------------------------------------------------------------

    def account(self, *, refresh_token: bool = False) -> GetAccountResponse:
        """Read the current account state."""
        return self._conn.request_model(
            "account/read", params.account_read(refresh_token), GetAccountResponse
        )

    def login_api_key(self, api_key: str) -> None:
        """Log in with an API key."""
        self._conn.request_model(
            "account/login/start", params.login_api_key(api_key), LoginAccountResponse
        )

    def logout(self) -> None:
        """Log out of the current account."""
        self._conn.request_model("account/logout", None, LogoutAccountResponse)

    # -- threads ------------------------------------------------------------------

    def thread_start(
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
    ) -> Thread:
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
        started = self._conn.request_model("thread/start", body, ThreadStartResponse)
        return Thread(self._conn, started.thread.id)

    def thread_list(
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
        return self._conn.request_model("thread/list", body, ThreadListResponse)

    def thread_resume(
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
    ) -> Thread:
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
        resumed = self._conn.request_model("thread/resume", body, ThreadResumeResponse)
        return Thread(self._conn, resumed.thread.id)

    def thread_fork(
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
    ) -> Thread:
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
        forked = self._conn.request_model("thread/fork", body, ThreadForkResponse)
        return Thread(self._conn, forked.thread.id)

    def thread_read(self, thread_id: str, *, include_turns: bool = False) -> ThreadReadResponse:
        """Read a thread by id, optionally with its turns."""
        return Thread(self._conn, thread_id).read(include_turns=include_turns)

    def thread_archive(self, thread_id: str) -> ThreadArchiveResponse:
        """Archive a stored thread."""
        return self._conn.request_model(
            "thread/archive", params.thread_id_only(thread_id), ThreadArchiveResponse
        )

    def thread_unarchive(self, thread_id: str) -> Thread:
        """Restore an archived thread."""
        restored = self._conn.request_model(
            "thread/unarchive", params.thread_id_only(thread_id), ThreadUnarchiveResponse
        )
        return Thread(self._conn, restored.thread.id)

    def models(self, *, include_hidden: bool = False) -> ModelListResponse:
        """List the models the server offers."""
        return self._conn.request_model(
            "model/list", params.model_list(include_hidden), ModelListResponse
        )


class Thread:
    """A conversation thread on a `Codex` client."""

    __slots__ = ("_conn", "id")

    def __init__(self, _conn: SyncConnection, id: str) -> None:
        self._conn = _conn
        self.id = id

    def __repr__(self) -> str:
        return f"Thread(id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Thread) and other._conn is self._conn and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def run(
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
        return self.turn(
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
        ).run()

    def turn(
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
    ) -> TurnHandle:
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
        result, subscription = self._conn.start_turn(body)
        started = TurnStartResponse.model_validate(result)
        return TurnHandle(self._conn, self.id, started.turn.id, _subscription=subscription)

    def read(self, *, include_turns: bool = False) -> ThreadReadResponse:
        """Read this thread, optionally with its turns and items."""
        return self._conn.request_model(
            "thread/read", params.thread_read(self.id, include_turns), ThreadReadResponse
        )

    def set_name(self, name: str) -> ThreadSetNameResponse:
        """Set the thread's user-facing name."""
        return self._conn.request_model(
            "thread/name/set", params.thread_set_name(self.id, name), ThreadSetNameResponse
        )

    def compact(self) -> ThreadCompactStartResponse:
        """Start compacting the thread's history (runs as a separate turn)."""
        return self._conn.request_model(
            "thread/compact/start", params.thread_id_only(self.id), ThreadCompactStartResponse
        )


class TurnHandle:
    """A started turn: stream its notifications, wait for it, steer or interrupt it."""

    __slots__ = ("_conn", "_subscription", "id", "thread_id")

    def __init__(
        self,
        _conn: SyncConnection,
        thread_id: str,
        id: str,
        *,
        _subscription: TurnSubscription | None = None,
    ) -> None:
        self._conn = _conn
        self.thread_id = thread_id
        self.id = id
        self._subscription = _subscription or _conn.subscribe(id)

    def __repr__(self) -> str:
        return f"TurnHandle(thread_id={self.thread_id!r}, id={self.id!r})"

    def steer(self, input: Input | str) -> TurnSteerResponse:
        """Add user input to this turn while it runs."""
        return self._conn.request_model(
            "turn/steer", params.turn_steer(self.thread_id, self.id, input), TurnSteerResponse
        )

    def interrupt(self) -> TurnInterruptResponse:
        """Ask the server to stop this turn; it then completes as `interrupted`."""
        return self._conn.request_model(
            "turn/interrupt",
            params.turn_interrupt(self.thread_id, self.id),
            TurnInterruptResponse,
        )

    def stream(self) -> Generator[Notification, None, None]:
        """Yield this turn's notifications, ending after its `turn/completed`."""
        try:
            while True:
                notification = self._subscription.next()
                yield notification
                if is_turn_completed(notification, self.id):
                    return
        finally:
            self._subscription.close()

    def run(self) -> TurnResult:
        """Consume the stream and return the collected result."""
        collector = TurnCollector(self.id)
        stream = self.stream()
        try:
            for notification in stream:
                if collector.feed(notification):
                    break
        finally:
            stream.close()
        return collector.result()
