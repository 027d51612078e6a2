"""Prints the public API of whichever `openai_codex` is importable, as JSON.

Run by `test_public_api.py` under our venv and under the official SDK's venv, so
the two packages are never imported into one process. For every name in
`openai_codex.__all__`: enums list their members, classes their public methods (parameters with
kind, default and annotation text, and the return annotation) and dataclass
fields; `**options: Unpack[SomeTypedDict]` is expanded into the keyword-only
parameters it stands for, which is what a type checker sees.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import sys
import typing
from typing import Any

import openai_codex


def _text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, typing.ForwardRef):
        return annotation.__forward_arg__
    return annotation if isinstance(annotation, str) else repr(annotation)


def _unpacked(owner: type, annotation: str) -> dict[str, Any] | None:
    """The TypedDict behind `Unpack[Name]`, from the module that defines `owner`."""
    if not (annotation.startswith("Unpack[") and annotation.endswith("]")):
        return None
    typed_dict = getattr(sys.modules[owner.__module__], annotation[len("Unpack[") : -1])
    return dict(typed_dict.__annotations__)


def _parameters(owner: type, function: Any) -> list[dict[str, str]]:
    rows = []
    for param in inspect.signature(function).parameters.values():
        annotation = _text(param.annotation)
        expanded = _unpacked(owner, annotation) if param.kind is param.VAR_KEYWORD else None
        if expanded is not None:
            for name, hint in expanded.items():
                rows.append(
                    {"name": name, "kind": "KEYWORD_ONLY", "default": "None", "type": _text(hint)}
                )
            continue
        default = "" if param.default is param.empty else repr(param.default)
        rows.append(
            {"name": param.name, "kind": param.kind.name, "default": default, "type": annotation}
        )
    return rows


def _describe(cls: type) -> dict[str, Any]:
    if issubclass(cls, enum.Enum):
        return {"members": [[member.name, member.value] for member in cls]}
    methods = {}
    for name, member in inspect.getmembers(cls):
        if (name.startswith("_") and name != "__init__") or not inspect.isfunction(member):
            continue
        methods[name] = {
            "params": _parameters(cls, member),
            "returns": _text(inspect.signature(member).return_annotation),
            "async": inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member),
        }
    fields = []
    if dataclasses.is_dataclass(cls):
        fields = [[field.name, _text(field.type)] for field in dataclasses.fields(cls)]
    return {"methods": methods, "fields": fields}


def main() -> None:
    api: dict[str, Any] = {}
    for name in openai_codex.__all__:
        value = getattr(openai_codex, name)
        if isinstance(value, type) and not issubclass(value, BaseException):
            api[name] = _describe(value)
        elif inspect.isfunction(value):
            api[name] = {"function": _parameters(type(value), value)}
        else:
            api[name] = {}
    json.dump(api, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
