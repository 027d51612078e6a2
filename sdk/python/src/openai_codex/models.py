"""Hand-written wire types that the schema bundle does not describe.

`initialize` is a v1 method, so its response is modelled here; `Notification`
pairs a method name with its validated payload (or the raw params when the
payload does not match the generated model).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from pydantic import BaseModel, ConfigDict

from .generated.notification_registry import KnownNotificationPayload

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | dict[str, "JsonValue"] | list["JsonValue"]
JsonObject: TypeAlias = dict[str, JsonValue]


@dataclass(slots=True)
class UnknownNotification:
    """Payload of a notification with an unknown method or an invalid shape."""

    params: JsonObject


NotificationPayload: TypeAlias = KnownNotificationPayload | UnknownNotification


@dataclass(slots=True)
class Notification:
    """One server notification as delivered to turn streams."""

    method: str
    payload: NotificationPayload


class ServerInfo(BaseModel):
    """Server name and version (from `serverInfo`, else parsed from `userAgent`)."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    version: str | None = None


class InitializeResponse(BaseModel):
    """Result of `initialize`; field names follow the wire (camelCase)."""

    model_config = ConfigDict(extra="allow")

    serverInfo: ServerInfo | None = None
    userAgent: str | None = None
    codexHome: str | None = None
    platformFamily: str | None = None
    platformOs: str | None = None
