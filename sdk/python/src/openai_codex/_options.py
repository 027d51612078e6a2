"""The option sets of the public methods, declared once, and the presets they use.

Each `*Options` TypedDict is the set of keyword arguments one public method
accepts (`**options: Unpack[TurnOptions]`); the sync and async clients and the
params builders in `_params.py` all read these declarations, so adding an
option means adding one line here. Every option is optional and `None` means
"not sent" (the server's default applies).

Thread-level calls (`thread/start|resume|fork`) take a kebab-case `sandbox`
mode; turn-level calls take a tagged `sandboxPolicy` object.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from typing_extensions import TypedDict

from .generated.v2_all import (
    Personality,
    ReasoningEffort,
    ReasoningSummary,
    SortDirection,
    ThreadListCwdFilter,
    ThreadSortKey,
    ThreadSource,
    ThreadSourceKind,
    ThreadStartSource,
)
from .models import JsonObject


class ApprovalMode(str, Enum):
    """How escalated actions are approved.

    `auto_review` asks on request and lets the server-side reviewer decide;
    `deny_all` never asks (escalations are refused). `ask_user` (an extension of
    this SDK) asks the client for everything not known to be safe, so the
    client's `approval_handler` decides.
    """

    deny_all = "deny_all"
    auto_review = "auto_review"
    ask_user = "ask_user"


class Sandbox(str, Enum):
    """Filesystem access presets for threads and turns."""

    read_only = "read-only"
    workspace_write = "workspace-write"
    full_access = "full-access"


class _ThreadSettings(TypedDict, total=False):
    """Settings shared by `thread_start`, `thread_resume` and `thread_fork`."""

    base_instructions: str | None
    config: JsonObject | None
    cwd: str | None
    developer_instructions: str | None
    model: str | None
    model_provider: str | None
    sandbox: Sandbox | None
    service_tier: str | None


class ThreadStartOptions(_ThreadSettings, total=False):
    """Keyword arguments of `thread_start` (besides `approval_mode` and `tools`)."""

    ephemeral: bool | None
    personality: Personality | None
    service_name: str | None
    session_start_source: ThreadStartSource | None
    thread_source: ThreadSource | None


class ThreadResumeOptions(_ThreadSettings, total=False):
    """Keyword arguments of `thread_resume` (besides `tools`)."""

    approval_mode: ApprovalMode | None
    include_turns: bool | None
    personality: Personality | None


class ThreadForkOptions(_ThreadSettings, total=False):
    """Keyword arguments of `thread_fork` (besides `tools`)."""

    approval_mode: ApprovalMode | None
    ephemeral: bool | None
    include_turns: bool | None
    thread_source: ThreadSource | None


class ThreadListOptions(TypedDict, total=False):
    """Keyword arguments of `thread_list`."""

    archived: bool | None
    cursor: str | None
    cwd: ThreadListCwdFilter | None
    limit: int | None
    model_providers: list[str] | None
    search_term: str | None
    section_id: str | None
    sort_direction: SortDirection | None
    sort_key: ThreadSortKey | None
    source_kinds: list[ThreadSourceKind] | None
    use_state_db_only: bool | None


class TurnOptions(TypedDict, total=False):
    """Keyword arguments of `Thread.turn` and `Thread.run`.

    `turn_service_tier` applies to this turn only, `service_tier` updates the
    thread default; `source` labels what started the turn and grants no authority.
    """

    approval_mode: ApprovalMode | None
    cwd: str | None
    effort: ReasoningEffort | None
    model: str | None
    output_schema: JsonObject | None
    personality: Personality | None
    sandbox: Sandbox | None
    service_tier: str | None
    source: str | None
    summary: ReasoningSummary | None
    turn_service_tier: str | None


def check_options(method: str, options: Mapping[str, object], declared: type) -> None:
    """Reject a keyword the option set does not declare, as a fixed signature would."""
    known: frozenset[str] = getattr(declared, "__optional_keys__", frozenset())
    for name in options:
        if name not in known:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")


def approval_fields(mode: object) -> JsonObject:
    """`approvalPolicy` / `approvalsReviewer` keys for a mode (none for `None`)."""
    if mode is None:
        return {}
    if not isinstance(mode, ApprovalMode):
        allowed = ", ".join(m.value for m in ApprovalMode)
        raise ValueError(f"approval_mode must be one of: {allowed}")
    if mode is ApprovalMode.auto_review:
        return {"approvalPolicy": "on-request", "approvalsReviewer": "auto_review"}
    if mode is ApprovalMode.ask_user:
        return {"approvalPolicy": "untrusted", "approvalsReviewer": "user"}
    return {"approvalPolicy": "never"}


def _require_sandbox(sandbox: object) -> Sandbox:
    if not isinstance(sandbox, Sandbox):
        allowed = ", ".join(f"Sandbox.{s.name}" for s in Sandbox)
        raise ValueError(f"sandbox must be one of: {allowed}")
    return sandbox


def sandbox_mode(sandbox: object) -> str | None:
    """Thread-level wire mode for a preset."""
    if sandbox is None:
        return None
    preset = _require_sandbox(sandbox)
    return "danger-full-access" if preset is Sandbox.full_access else str(preset.value)


def sandbox_policy(sandbox: object) -> JsonObject | None:
    """Turn-level wire policy object for a preset (defaults spelled out)."""
    if sandbox is None:
        return None
    preset = _require_sandbox(sandbox)
    if preset is Sandbox.read_only:
        return {"type": "readOnly", "networkAccess": False}
    if preset is Sandbox.workspace_write:
        return {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": False,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "dangerFullAccess"}
