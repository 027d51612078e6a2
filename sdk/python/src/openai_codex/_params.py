"""Request params for the public methods (pure functions, shared by both clients).

Options arrive as the `*Options` mappings of `_options.py`. A Python option name
becomes its camelCase wire name unless `_RENAMED` or `_wire_fields` says
otherwise; options left as `None` are omitted from the wire, never sent as
null; enums and generated models are converted to their JSON form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

from pydantic import BaseModel

from . import _options as opts
from ._inputs import Input, RunInput, input_to_wire, run_input_to_wire
from ._options import approval_fields, check_options, sandbox_mode, sandbox_policy
from .models import JsonObject, JsonValue

# Options whose wire name is not the camelCase of the Python name.
_RENAMED = {"source": "turnTrigger", "turn_service_tier": "serviceTierForTurn"}


def _json(value: object) -> JsonValue:
    if isinstance(value, Enum):
        return _json(value.value)
    if isinstance(value, BaseModel):
        dumped: JsonValue = value.model_dump(by_alias=True, exclude_none=True, mode="json")
        return dumped
    if isinstance(value, (list, tuple)):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the app-server")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _wire_fields(options: Mapping[str, object], *, turn_level: bool) -> JsonObject:
    """Wire fields for the options that are set (see the module docs for the rules)."""
    body: JsonObject = {}
    for name, value in options.items():
        if value is None:
            continue
        if name == "approval_mode":
            body.update(approval_fields(value))
        elif name == "include_turns":
            body["excludeTurns"] = not value
        elif name == "sandbox" and turn_level:
            body["sandboxPolicy"] = sandbox_policy(value)
        elif name == "sandbox":
            body["sandbox"] = sandbox_mode(value)
        else:
            body[_RENAMED.get(name, _camel(name))] = _json(value)
    return body


def thread_start(
    approval_mode: opts.ApprovalMode,
    options: opts.ThreadStartOptions,
    dynamic_tools: Sequence[JsonObject] = (),
) -> JsonObject:
    check_options("thread_start", options, opts.ThreadStartOptions)
    body = {**approval_fields(approval_mode), **_wire_fields(options, turn_level=False)}
    if dynamic_tools:
        body["dynamicTools"] = list(dynamic_tools)
    return body


def thread_resume(thread_id: str, options: opts.ThreadResumeOptions) -> JsonObject:
    check_options("thread_resume", options, opts.ThreadResumeOptions)
    return {"threadId": thread_id, **_wire_fields(options, turn_level=False)}


def thread_fork(thread_id: str, options: opts.ThreadForkOptions) -> JsonObject:
    check_options("thread_fork", options, opts.ThreadForkOptions)
    return {"threadId": thread_id, **_wire_fields(options, turn_level=False)}


def thread_list(options: opts.ThreadListOptions) -> JsonObject:
    check_options("thread_list", options, opts.ThreadListOptions)
    return _wire_fields(options, turn_level=False)


def turn_start(thread_id: str, input: RunInput, options: opts.TurnOptions) -> JsonObject:
    check_options("turn", options, opts.TurnOptions)
    wire_input, tool_output = run_input_to_wire(input)
    body: JsonObject = {"threadId": thread_id, "input": wire_input}
    if tool_output is not None:
        body["toolOutput"] = tool_output
    return {**body, **_wire_fields(options, turn_level=True)}


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
