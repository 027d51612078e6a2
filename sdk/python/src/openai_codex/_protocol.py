"""Sans-I/O JSON-RPC layer: framing, message classification, notification typing.

The server speaks JSON-RPC 2.0 without the `"jsonrpc"` member, one compact
JSON object per `\\n`-terminated line. Both clients share everything here and
add only reading and writing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from .errors import CodexError, JsonRpcError, map_jsonrpc_error
from .generated.notification_registry import NOTIFICATION_MODELS
from .models import JsonObject, JsonValue, Notification, UnknownNotification

ModelT = TypeVar("ModelT", bound=BaseModel)
RequestId: TypeAlias = str | int

METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603


@dataclass(frozen=True, slots=True)
class Response:
    """A successful reply to one of our requests."""

    id: RequestId
    result: JsonValue


@dataclass(frozen=True, slots=True)
class ErrorResponse:
    """An error reply to one of our requests (`id` may be null for framing errors)."""

    id: RequestId | None
    error: JsonRpcError


@dataclass(frozen=True, slots=True)
class ServerRequest:
    """A server -> client request that must be answered."""

    id: RequestId
    method: str
    params: JsonObject | None


@dataclass(frozen=True, slots=True)
class IncomingNotification:
    """A server notification, still untyped."""

    method: str
    params: JsonObject | None


Incoming: TypeAlias = Response | ErrorResponse | ServerRequest | IncomingNotification


def encode(message: JsonObject) -> bytes:
    """One compact JSON line. JSON escapes newlines inside strings, so framing holds."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def request_message(request_id: RequestId, method: str, params: JsonObject | None) -> JsonObject:
    """A request; `params` is omitted (not null) when there are none."""
    message: JsonObject = {"id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def notification_message(method: str, params: JsonObject | None = None) -> JsonObject:
    message: JsonObject = {"method": method}
    if params is not None:
        message["params"] = params
    return message


def result_message(request_id: RequestId, result: JsonValue) -> JsonObject:
    return {"id": request_id, "result": result}


def error_message(
    request_id: RequestId, code: int, message: str, data: JsonValue = None
) -> JsonObject:
    error: JsonObject = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"id": request_id, "error": error}


def _is_request_id(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool)


def decode(line: bytes | str) -> Incoming | None:
    """Classify one line. Returns None for blank lines; raises CodexError if malformed."""
    text = line.decode("utf-8", errors="replace") if isinstance(line, bytes) else line
    if not text.strip():
        return None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodexError(f"invalid JSON from app-server: {text[:200]!r}") from exc
    if not isinstance(raw, dict):
        raise CodexError(f"app-server sent a non-object message: {text[:200]!r}")
    msg: JsonObject = raw
    method = msg.get("method")
    params = msg.get("params")
    params_obj = params if isinstance(params, dict) else None
    msg_id = msg.get("id")
    if isinstance(method, str):
        if "id" in msg and _is_request_id(msg_id):
            assert isinstance(msg_id, (str, int))
            return ServerRequest(msg_id, method, params_obj)
        return IncomingNotification(method, params_obj)
    if "error" in msg:
        err = msg["error"]
        code, text_msg, data = -32603, "malformed error response", None
        if isinstance(err, dict):
            raw_code = err.get("code")
            code = raw_code if isinstance(raw_code, int) else code
            raw_message = err.get("message")
            text_msg = raw_message if isinstance(raw_message, str) else text_msg
            data = err.get("data")
        error_id = msg_id if isinstance(msg_id, (str, int)) else None
        return ErrorResponse(error_id, map_jsonrpc_error(code, text_msg, data))
    if _is_request_id(msg_id):
        assert isinstance(msg_id, (str, int))
        return Response(msg_id, msg.get("result"))
    raise CodexError(f"unclassifiable message from app-server: {text[:200]!r}")


def turn_id_of(params: JsonObject | None) -> str | None:
    """Routing key of a notification: `params.turnId` or `params.turn.id`."""
    if params is None:
        return None
    turn_id = params.get("turnId")
    if isinstance(turn_id, str):
        return turn_id
    turn = params.get("turn")
    if isinstance(turn, dict):
        nested = turn.get("id")
        if isinstance(nested, str):
            return nested
    return None


def to_notification(incoming: IncomingNotification) -> Notification:
    """Validate params against the registry; fall back to `UnknownNotification`."""
    params: JsonObject = incoming.params or {}
    model = NOTIFICATION_MODELS.get(incoming.method)
    if model is None:
        return Notification(incoming.method, UnknownNotification(params))
    try:
        payload = model.model_validate(params)
    except ValidationError:
        return Notification(incoming.method, UnknownNotification(params))
    return Notification(incoming.method, payload)  # type: ignore[arg-type]


def parse_result(method: str, result: JsonValue, model: type[ModelT]) -> ModelT:
    """Validate a response body, naming the method when it does not fit."""
    try:
        return model.model_validate(result)
    except ValidationError as exc:
        raise CodexError(f"{method} returned an unexpected result: {exc}") from exc
