"""Tool specs from Python functions: the arguments model and JSON Schema built from the
signature and type hints (pydantic), and argument descriptions read from the docstring
(Google `Args:`, numpy `Parameters` or reST `:param x:` style)."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .models import JsonObject

_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Returns?|Yields?|Raises|"
    r"Examples?|Notes?|See Also|Warnings?)\s*:?\s*$"
)
_ARG_SECTIONS = frozenset({"args", "arguments", "parameters", "params", "keyword args"})
_ENTRY = re.compile(r"^\s*\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """(description without its sections, {argument: description}) of a docstring.

    Understands Google (`Args:` + `name (type): text`), numpy (`Parameters` +
    dashes + `name : type` + indented text) and reST (`:param name: text`).
    """
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None  # None (description), "args", "numpy-args", "rest", "other"
    entry_indent: int | None = None
    current: str | None = None
    index = 0
    while index < len(lines):
        line, stripped = lines[index], lines[index].strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        header = _SECTION.match(line)
        numpy = bool(following) and set(following) == {"-"}
        if header and (stripped.endswith(":") or numpy):
            is_args = header.group(1).lower() in _ARG_SECTIONS
            section = ("numpy-args" if numpy else "args") if is_args else "other"
            entry_indent, current = None, None
            index += 2 if numpy else 1
            continue
        field = _REST_PARAM.match(line)
        entry = _ENTRY.match(line)
        if field:
            section, current = "rest", field.group(1)
            args[current] = field.group(2).strip()
        elif section in ("args", "numpy-args") and stripped:
            entry_indent = _indent(line) if entry_indent is None else entry_indent
            if entry and _indent(line) == entry_indent:
                current = entry.group(1)
                args[current] = "" if section == "numpy-args" else entry.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
        elif section == "rest" and current is not None and stripped:
            if stripped.startswith(":"):
                current = None
            else:
                args[current] = f"{args[current]} {stripped}"
        elif section is None:
            description.append(line)
        index += 1
    return "\n".join(description).strip(), args


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def arguments_model(
    function: Callable[..., object], name: str, docs: dict[str, str]
) -> tuple[type[BaseModel], dict[str, str]]:
    """A pydantic model of the function's parameters, and its field -> parameter names.

    Fields are named `arg0`, `arg1`, ... with the parameter names as aliases, so a
    parameter may be called anything (`json`, `schema`, `_private`) without
    clashing with pydantic. Extra arguments are rejected.
    """
    signature = inspect.signature(function)
    try:
        hints = typing.get_type_hints(function, include_extras=True)
    except (NameError, TypeError) as exc:
        raise TypeError(f"tool {name!r}: cannot resolve its type hints: {exc}") from exc
    fields: dict[str, Any] = {}
    names: dict[str, str] = {}
    for index, param in enumerate(signature.parameters.values()):
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise TypeError(f"tool {name!r}: parameter {param.name!r} must be passable by name")
        default = ... if param.default is param.empty else param.default
        field = Field(default, alias=param.name, description=docs.get(param.name))
        fields[f"arg{index}"] = (hints.get(param.name, Any), field)
        names[f"arg{index}"] = param.name
    config = ConfigDict(extra="forbid", populate_by_name=False)
    model: type[BaseModel] = create_model(f"{name}_arguments", __config__=config, **fields)
    return model, names


def input_schema(model: type[BaseModel]) -> JsonObject:
    schema: JsonObject = model.model_json_schema()
    schema.pop("title", None)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for prop in properties.values():
            if isinstance(prop, dict):
                prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def describe_errors(name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"Invalid arguments for tool {name!r}: " + "; ".join(problems)
