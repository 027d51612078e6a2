"""What a tool's return value becomes in the `item/tool/call` answer: text, images, or a
failure the model reads (see `_tools` for the rules)."""

from __future__ import annotations

import base64
import dataclasses
import json
import mimetypes
from pathlib import Path

from pydantic import BaseModel

from ._inputs import ImageInput, LocalImageInput
from .models import JsonObject, JsonValue


def success_reply(value: object) -> JsonObject:
    """`{contentItems, success: true}` for a function's return value."""
    return {"contentItems": _content_items(value), "success": True}


def failure_reply(message: str) -> JsonObject:
    """`{contentItems, success: false}` carrying `message` to the model."""
    return {"contentItems": [{"type": "inputText", "text": message}], "success": False}


def _content_items(value: object) -> list[JsonValue]:
    if isinstance(value, (list, tuple)) and any(_image_url(part) for part in value):
        items: list[JsonValue] = []
        for part in value:
            items += _content_items(part)
        return items
    image = _image_url(value)
    if image is not None:
        return [{"type": "inputImage", "imageUrl": image}]
    return [{"type": "inputText", "text": _text(value)}]


def _image_url(value: object) -> str | None:
    if isinstance(value, ImageInput):
        return value.url
    if isinstance(value, LocalImageInput):
        path = Path(value.path)
        mime = mimetypes.guess_type(path.name)[0] or "image/png"
        return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"
    for method, mime in (("_repr_png_", "image/png"), ("_repr_jpeg_", "image/jpeg")):
        render = getattr(value, method, None)
        data = render() if callable(render) and not isinstance(value, type) else None
        if isinstance(data, bytes):
            return f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return None


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    try:
        return json.dumps(value, ensure_ascii=False, default=_fallback)
    except (TypeError, ValueError):
        return str(value)


def _fallback(value: object) -> JsonValue:
    if isinstance(value, BaseModel):
        dumped: JsonValue = value.model_dump(mode="json")
        return dumped
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return str(value)
