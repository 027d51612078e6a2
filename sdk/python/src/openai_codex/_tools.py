"""Plain Python functions as client-defined ("dynamic") tools.

`thread_start(tools=[fn, ...])` turns each function into a tool spec the model
sees: the name is the function's name, the description its docstring (without
the argument section), and the input schema comes from the signature and type
hints through pydantic, with each argument described by its docstring entry
(Google `Args:`, numpy `Parameters` or reST `:param x:` style). `tool()`
overrides the name or description.

When the model calls a tool, the server sends `item/tool/call`; the SDK
validates the arguments against the same pydantic model, calls the function
(sync or `async`) and answers `{contentItems, success}`:

* a return value becomes text: `str` as is, anything else as JSON (pydantic
  models, dataclasses, dicts, lists, numbers; `None` as `null`);
* an image becomes an `inputImage` item: `ImageInput` (a URL or `data:` URL),
  `LocalImageInput` (read and inlined), or any object with `_repr_png_()` /
  `_repr_jpeg_()` (PIL images, plots); a list may mix text and images;
* an exception becomes `success: false` with its type and message;
* arguments that do not validate become `success: false` with a message that
  names each bad field, so the model can correct the call.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import json
import mimetypes
import re
import typing
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ._inputs import ImageInput, LocalImageInput
from .models import JsonObject, JsonValue

ToolFunction = Callable[..., object]
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SECTION = re.compile(
    r"^\s*(Args|Arguments|Parameters|Params|Keyword Args|Returns?|Yields?|Raises|"
    r"Examples?|Notes?|See Also|Warnings?)\s*:?\s*$"
)
_ARG_SECTIONS = frozenset({"args", "arguments", "parameters", "params", "keyword args"})
_ENTRY = re.compile(r"^\s*\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


class ToolArgumentsError(Exception):
    """The model's arguments did not validate against the tool's signature."""


P = ParamSpec("P")
R = TypeVar("R")


class Tool(Generic[P, R]):
    """A function exposed to the model, made by `tool()`; still callable as the function."""

    __slots__ = (
        "_arguments",
        "_fields",
        "description",
        "function",
        "input_schema",
        "is_async",
        "name",
    )

    def __init__(
        self, function: Callable[P, R], *, name: str | None = None, description: str | None = None
    ) -> None:
        if isinstance(function, Tool):
            raise TypeError("already a Tool; pass its function to override name or description")
        self.function = function
        self.name = name if name is not None else getattr(function, "__name__", "")
        if not _NAME.match(self.name):
            raise ValueError(
                f"tool name {self.name!r} must be 1-64 letters, digits, '_' or '-'; "
                "pass tool(fn, name=...)"
            )
        summary, arg_docs = parse_docstring(inspect.getdoc(function) or "")
        self.description = description if description is not None else summary
        self._arguments, self._fields = _arguments_model(function, self.name, arg_docs)
        self.input_schema = _input_schema(self._arguments)
        call = getattr(function, "__call__", None)  # noqa: B004 - async callable objects
        self.is_async = inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r})"

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def spec(self) -> JsonObject:
        """The `dynamicTools` entry for this tool (canonical `function` shape)."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
        }

    def invoke(self, arguments: JsonValue) -> object:
        """Validate `arguments` and call the function; an async one returns its coroutine."""
        try:
            parsed = self._arguments.model_validate(arguments if arguments is not None else {})
        except ValidationError as exc:
            raise ToolArgumentsError(_describe_errors(self.name, exc)) from exc
        values = {param: getattr(parsed, field) for field, param in self._fields.items()}
        return self.function(**values)  # type: ignore[call-arg]


@overload
def tool(
    function: Callable[P, R], *, name: str | None = None, description: str | None = None
) -> Tool[P, R]: ...


@overload
def tool(
    function: None = None, *, name: str | None = None, description: str | None = None
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Expose a function as a tool, overriding its name or description if given.

    `thread_start(tools=[fn])` needs no decorator; use `tool(fn, name=...)`,
    `@tool` or `@tool(description=...)` to change what the model sees.
    """
    if function is None:
        return lambda fn: Tool(fn, name=name, description=description)
    return Tool(function, name=name, description=description)


class Toolset:
    """The tools of one thread, by name."""

    __slots__ = ("_by_name",)

    def __init__(self, tools: Iterable[ToolFunction] = ()) -> None:
        self._by_name: dict[str, Tool[..., object]] = {}
        for item in tools:
            made = item if isinstance(item, Tool) else Tool(item)
            if made.name in self._by_name:
                raise ValueError(f"two tools are named {made.name!r}")
            self._by_name[made.name] = made

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def specs(self) -> list[JsonObject]:
        return [made.spec() for made in self._by_name.values()]

    def get(self, namespace: str | None, name: str) -> Tool[..., object] | None:
        """The tool the model called; SDK tools have no namespace."""
        return self._by_name.get(name) if namespace is None else None


# -- schema -----------------------------------------------------------------------


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


def _arguments_model(
    function: ToolFunction, name: str, docs: dict[str, str]
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


def _input_schema(model: type[BaseModel]) -> JsonObject:
    schema: JsonObject = model.model_json_schema()
    schema.pop("title", None)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for prop in properties.values():
            if isinstance(prop, dict):
                prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def _describe_errors(name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"Invalid arguments for tool {name!r}: " + "; ".join(problems)


# -- results ------------------------------------------------------------------------


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


def toolset_of(tools: Sequence[ToolFunction]) -> Toolset:
    """Validate `tools` early, at the call that passes them."""
    if isinstance(tools, (str, bytes)) or callable(tools):
        raise TypeError("tools must be a list of functions")
    return Toolset(tools)
