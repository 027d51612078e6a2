"""Turn input types and their conversion to wire `UserInput` objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from pydantic import BaseModel

from .models import JsonObject, JsonValue


@dataclass(slots=True)
class TextInput:
    """Plain text from the user."""

    text: str


@dataclass(slots=True)
class ImageInput:
    """An image by URL (https or a `data:` URL)."""

    url: str


@dataclass(slots=True)
class LocalImageInput:
    """An image file on the machine running the app-server."""

    path: str


@dataclass(slots=True)
class SkillInput:
    """A reference to a skill (`SKILL.md` path)."""

    name: str
    path: str


@dataclass(slots=True)
class MentionInput:
    """A mention of an app or plugin resource (`app://…`, `plugin://…`)."""

    name: str
    path: str


@dataclass(slots=True)
class ExternalMessage:
    """Content from another tool or agent, given tool-level (not user) authority.

    Sent as `toolOutput` with an empty `input`; it starts a turn or joins the
    active regular turn. `content` is text or Responses function-output items.
    """

    tool_name: str
    content: str | Sequence[JsonObject | BaseModel]
    namespace: str | None = None


InputItem: TypeAlias = TextInput | ImageInput | LocalImageInput | SkillInput | MentionInput
Input: TypeAlias = list[InputItem] | InputItem
RunInput: TypeAlias = Input | str | ExternalMessage


def _item_to_wire(item: InputItem) -> JsonObject:
    if isinstance(item, TextInput):
        return {"type": "text", "text": item.text}
    if isinstance(item, ImageInput):
        return {"type": "image", "url": item.url}
    if isinstance(item, LocalImageInput):
        return {"type": "localImage", "path": item.path}
    if isinstance(item, SkillInput):
        return {"type": "skill", "name": item.name, "path": item.path}
    if isinstance(item, MentionInput):
        return {"type": "mention", "name": item.name, "path": item.path}
    raise TypeError(f"unsupported input item: {type(item).__name__}")


def input_to_wire(value: Input | str) -> list[JsonValue]:
    """Convert `str`, one item or a list of items to the wire `input` array."""
    if isinstance(value, str):
        return [_item_to_wire(TextInput(value))]
    if isinstance(value, list):
        return [_item_to_wire(item) for item in value]
    return [_item_to_wire(value)]


def run_input_to_wire(value: RunInput) -> tuple[list[JsonValue], JsonObject | None]:
    """Split a run input into (`input`, `toolOutput`) for `turn/start`."""
    if not isinstance(value, ExternalMessage):
        return input_to_wire(value), None
    if not value.tool_name.strip():
        raise ValueError("ExternalMessage.tool_name must be a non-empty string")
    output: JsonValue
    if isinstance(value.content, str):
        output = value.content
    else:
        output = [
            part.model_dump(by_alias=True, exclude_none=True, mode="json")
            if isinstance(part, BaseModel)
            else part
            for part in value.content
        ]
    tool_output: JsonObject = {"name": value.tool_name, "output": output}
    if value.namespace is not None:
        tool_output["namespace"] = value.namespace
    return [], tool_output
