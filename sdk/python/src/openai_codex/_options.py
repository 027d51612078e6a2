"""Approval and sandbox presets and the wire values they stand for.

Thread-level calls (`thread/start|resume|fork`) take a kebab-case `sandbox`
mode; turn-level calls take a tagged `sandboxPolicy` object.
"""

from __future__ import annotations

from enum import Enum

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


def approval_fields(mode: ApprovalMode | None) -> JsonObject:
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


def _require_sandbox(sandbox: Sandbox) -> None:
    if not isinstance(sandbox, Sandbox):
        allowed = ", ".join(f"Sandbox.{s.name}" for s in Sandbox)
        raise ValueError(f"sandbox must be one of: {allowed}")


def sandbox_mode(sandbox: Sandbox | None) -> str | None:
    """Thread-level wire mode for a preset."""
    if sandbox is None:
        return None
    _require_sandbox(sandbox)
    if sandbox is Sandbox.full_access:
        return "danger-full-access"
    return str(sandbox.value)


def sandbox_policy(sandbox: Sandbox | None) -> JsonObject | None:
    """Turn-level wire policy object for a preset (defaults spelled out)."""
    if sandbox is None:
        return None
    _require_sandbox(sandbox)
    if sandbox is Sandbox.read_only:
        return {"type": "readOnly", "networkAccess": False}
    if sandbox is Sandbox.workspace_write:
        return {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": False,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "dangerFullAccess"}
