"""Request params for the public methods (pure functions, shared by both clients).

Optional arguments left as `None` are omitted from the wire, never sent as null;
enums and generated models are converted to their JSON form.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel

from ._inputs import Input, RunInput, input_to_wire, run_input_to_wire
from ._options import ApprovalMode, Sandbox, approval_fields, sandbox_mode, sandbox_policy
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
from .models import JsonObject, JsonValue


def _json(value: object) -> JsonValue:
    if isinstance(value, Enum):
        return _json(value.value)
    if isinstance(value, BaseModel):
        dumped: JsonValue = value.model_dump(by_alias=True, exclude_none=True, mode="json")
        return dumped
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the app-server")


def _params(**fields: object) -> JsonObject:
    """Build params from wire-named fields, dropping the ones that are None."""
    return {key: _json(value) for key, value in fields.items() if value is not None}


def thread_start(
    *,
    approval_mode: ApprovalMode,
    base_instructions: str | None,
    config: JsonObject | None,
    cwd: str | None,
    developer_instructions: str | None,
    ephemeral: bool | None,
    model: str | None,
    model_provider: str | None,
    personality: Personality | None,
    sandbox: Sandbox | None,
    service_name: str | None,
    service_tier: str | None,
    session_start_source: ThreadStartSource | None,
    thread_source: ThreadSource | None,
) -> JsonObject:
    return {
        **approval_fields(approval_mode),
        **_params(
            baseInstructions=base_instructions,
            config=config,
            cwd=cwd,
            developerInstructions=developer_instructions,
            ephemeral=ephemeral,
            model=model,
            modelProvider=model_provider,
            personality=personality,
            sandbox=sandbox_mode(sandbox),
            serviceName=service_name,
            serviceTier=service_tier,
            sessionStartSource=session_start_source,
            threadSource=thread_source,
        ),
    }


def thread_resume(
    thread_id: str,
    *,
    approval_mode: ApprovalMode | None,
    base_instructions: str | None,
    config: JsonObject | None,
    cwd: str | None,
    developer_instructions: str | None,
    include_turns: bool | None,
    model: str | None,
    model_provider: str | None,
    personality: Personality | None,
    sandbox: Sandbox | None,
    service_tier: str | None,
) -> JsonObject:
    return {
        "threadId": thread_id,
        **approval_fields(approval_mode),
        **_params(
            baseInstructions=base_instructions,
            config=config,
            cwd=cwd,
            developerInstructions=developer_instructions,
            excludeTurns=None if include_turns is None else not include_turns,
            model=model,
            modelProvider=model_provider,
            personality=personality,
            sandbox=sandbox_mode(sandbox),
            serviceTier=service_tier,
        ),
    }


def thread_fork(
    thread_id: str,
    *,
    approval_mode: ApprovalMode | None,
    base_instructions: str | None,
    config: JsonObject | None,
    cwd: str | None,
    developer_instructions: str | None,
    ephemeral: bool | None,
    include_turns: bool | None,
    model: str | None,
    model_provider: str | None,
    sandbox: Sandbox | None,
    service_tier: str | None,
    thread_source: ThreadSource | None,
) -> JsonObject:
    return {
        "threadId": thread_id,
        **approval_fields(approval_mode),
        **_params(
            baseInstructions=base_instructions,
            config=config,
            cwd=cwd,
            developerInstructions=developer_instructions,
            ephemeral=ephemeral,
            excludeTurns=None if include_turns is None else not include_turns,
            model=model,
            modelProvider=model_provider,
            sandbox=sandbox_mode(sandbox),
            serviceTier=service_tier,
            threadSource=thread_source,
        ),
    }


def thread_list(
    *,
    archived: bool | None,
    cursor: str | None,
    cwd: ThreadListCwdFilter | str | list[str] | None,
    limit: int | None,
    model_providers: list[str] | None,
    search_term: str | None,
    section_id: str | None,
    sort_direction: SortDirection | None,
    sort_key: ThreadSortKey | None,
    source_kinds: list[ThreadSourceKind] | None,
    use_state_db_only: bool | None,
) -> JsonObject:
    return _params(
        archived=archived,
        cursor=cursor,
        cwd=cwd,
        limit=limit,
        modelProviders=model_providers,
        searchTerm=search_term,
        sectionId=section_id,
        sortDirection=sort_direction,
        sortKey=sort_key,
        sourceKinds=source_kinds,
        useStateDbOnly=use_state_db_only,
    )


def turn_start(
    thread_id: str,
    input: RunInput,
    *,
    approval_mode: ApprovalMode | None,
    cwd: str | None,
    effort: ReasoningEffort | None,
    model: str | None,
    output_schema: JsonObject | None,
    personality: Personality | None,
    sandbox: Sandbox | None,
    service_tier: str | None,
    source: str | None,
    summary: ReasoningSummary | None,
    turn_service_tier: str | None,
) -> JsonObject:
    wire_input, tool_output = run_input_to_wire(input)
    return {
        "threadId": thread_id,
        "input": wire_input,
        **approval_fields(approval_mode),
        **_params(
            toolOutput=tool_output,
            cwd=cwd,
            effort=effort,
            model=model,
            outputSchema=output_schema,
            personality=personality,
            sandboxPolicy=sandbox_policy(sandbox),
            serviceTier=service_tier,
            turnTrigger=source,
            summary=summary,
            serviceTierForTurn=turn_service_tier,
        ),
    }


def turn_steer(thread_id: str, turn_id: str, input: Input | str) -> JsonObject:
    return {"threadId": thread_id, "expectedTurnId": turn_id, "input": input_to_wire(input)}


def turn_interrupt(thread_id: str, turn_id: str) -> JsonObject:
    return {"threadId": thread_id, "turnId": turn_id}


def thread_read(thread_id: str, include_turns: bool) -> JsonObject:
    return {"threadId": thread_id, "includeTurns": include_turns}


def thread_set_name(thread_id: str, name: str) -> JsonObject:
    return {"threadId": thread_id, "name": name}


def thread_id_only(thread_id: str) -> JsonObject:
    return {"threadId": thread_id}


def model_list(include_hidden: bool) -> JsonObject:
    return {"includeHidden": include_hidden}


def account_read(refresh_token: bool) -> JsonObject:
    return {"refreshToken": refresh_token}


def login_api_key(api_key: str) -> JsonObject:
    return {"type": "apiKey", "apiKey": api_key}
