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

This module owns `Tool` and `Toolset`; the schema is built in `_tool_schema`,
the answer in `_tool_results`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Generic, ParamSpec, TypeVar, overload

from pydantic import ValidationError

from ._tool_schema import arguments_model, describe_errors, input_schema, parse_docstring
from .models import JsonObject, JsonValue

ToolFunction = Callable[..., object]
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
        self._arguments, self._fields = arguments_model(function, self.name, arg_docs)
        self.input_schema = input_schema(self._arguments)
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
            raise ToolArgumentsError(describe_errors(self.name, exc)) from exc
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


def toolset_of(tools: Sequence[ToolFunction]) -> Toolset:
    """Validate `tools` early, at the call that passes them."""
    if isinstance(tools, (str, bytes)) or callable(tools):
        raise TypeError("tools must be a list of functions")
    return Toolset(tools)
