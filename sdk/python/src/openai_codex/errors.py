"""Exception hierarchy of the SDK.

    CodexError
    ├── CodexBinaryNotFoundError (also FileNotFoundError): no runtime binary found
    ├── TransportClosedError: the app-server process went away (carries stderr tail)
    ├── TurnFailedError (also RuntimeError): a turn completed with status "failed"
    ├── TurnIncompleteError (also RuntimeError): a turn stream ended early
    └── JsonRpcError(code, message, data): error response from the server
        └── CodexRpcError: errors with a code the SDK knows
            ├── ParseError (-32700)
            ├── InvalidRequestError (-32600)
            ├── MethodNotFoundError (-32601)
            ├── InvalidParamsError (-32602)
            ├── InternalRpcError (-32603)
            └── ServerBusyError (-32000..-32099 flagged `server_overloaded`)
                └── RetryLimitExceededError

Codes in -32099..-32000 without an overload marker map to `CodexRpcError`;
any other code stays a plain `JsonRpcError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .generated.v2_all import TurnError
    from .models import JsonValue


class CodexError(Exception):
    """Base class of every error raised by this SDK."""


class CodexBinaryNotFoundError(CodexError, FileNotFoundError):
    """No `codex` executable was found; `tried` lists every place searched."""

    def __init__(self, tried: Sequence[str]) -> None:
        self.tried = list(tried)
        places = "\n".join(f"  - {place}" for place in self.tried)
        super().__init__(
            "Could not find the codex binary. Set CodexConfig.codex_bin or CODEX_BIN. "
            f"Places tried:\n{places}"
        )


class TransportClosedError(CodexError):
    """The app-server process closed its stdout or could not be written to."""

    def __init__(
        self, message: str, *, stderr_tail: str = "", returncode: int | None = None
    ) -> None:
        self.stderr_tail = stderr_tail
        self.returncode = returncode
        full = message
        if returncode is not None:
            full += f" (exit code {returncode})"
        if stderr_tail:
            full += f"\nstderr tail:\n{stderr_tail}"
        super().__init__(full)


class TurnFailedError(CodexError, RuntimeError):
    """A turn ended with status `failed`; the message is the server's error text."""

    def __init__(self, message: str, *, turn_id: str, error: TurnError | None) -> None:
        super().__init__(message)
        self.turn_id = turn_id
        self.error = error


class TurnIncompleteError(CodexError, RuntimeError):
    """The turn's notification stream ended before `turn/completed` arrived."""


class JsonRpcError(CodexError):
    """An error response from the server."""

    def __init__(self, code: int, message: str, data: JsonValue = None) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data


class CodexRpcError(JsonRpcError):
    """A JSON-RPC error whose code the SDK classifies."""


class ParseError(CodexRpcError):
    """-32700: the peer could not parse a message."""


class InvalidRequestError(CodexRpcError):
    """-32600: the request was rejected (the server's default failure code)."""


class MethodNotFoundError(CodexRpcError):
    """-32601: the method does not exist."""


class InvalidParamsError(CodexRpcError):
    """-32602: the parameters were invalid."""


class InternalRpcError(CodexRpcError):
    """-32603: the server failed internally."""


class ServerBusyError(CodexRpcError):
    """The server is overloaded; the call may be retried."""


class RetryLimitExceededError(ServerBusyError):
    """The server gave up after its own retries."""


_BY_CODE: dict[int, type[CodexRpcError]] = {
    -32700: ParseError,
    -32600: InvalidRequestError,
    -32601: MethodNotFoundError,
    -32602: InvalidParamsError,
    -32603: InternalRpcError,
}


def _mentions_retry_limit(message: str) -> bool:
    lowered = message.lower()
    return "retry limit" in lowered or "too many failed attempts" in lowered


def _flags_overload(data: JsonValue) -> bool:
    """True when `server_overloaded` appears anywhere in the error data."""
    if isinstance(data, str):
        return data.lower() == "server_overloaded"
    if isinstance(data, dict):
        return any(_flags_overload(value) for value in data.values())
    if isinstance(data, list):
        return any(_flags_overload(value) for value in data)
    return False


def map_jsonrpc_error(code: int, message: str, data: JsonValue = None) -> JsonRpcError:
    """Build the most specific exception for a JSON-RPC error object."""
    known = _BY_CODE.get(code)
    if known is not None:
        return known(code, message, data)
    if -32099 <= code <= -32000:
        if _mentions_retry_limit(message):
            return RetryLimitExceededError(code, message, data)
        if _flags_overload(data):
            return ServerBusyError(code, message, data)
        return CodexRpcError(code, message, data)
    return JsonRpcError(code, message, data)


def is_retryable_error(exc: BaseException) -> bool:
    """True for transient overload errors that `retry_on_overload` retries."""
    if isinstance(exc, ServerBusyError):
        return True
    return isinstance(exc, JsonRpcError) and _flags_overload(exc.data)
