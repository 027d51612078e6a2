"""`initialize` parameters and validation of the server's metadata."""

from __future__ import annotations

from ._config import CodexConfig
from .errors import CodexError
from .models import InitializeResponse, JsonObject, JsonValue, ServerInfo


def initialize_params(config: CodexConfig) -> JsonObject:
    return {
        "clientInfo": {
            "name": config.client_name,
            "title": config.client_title,
            "version": config.client_version,
        },
        "capabilities": {"experimentalApi": config.experimental_api},
    }


def split_user_agent(user_agent: str) -> tuple[str | None, str | None]:
    """`name/version rest` -> (name, "version rest"); whitespace split as fallback."""
    text = user_agent.strip()
    if not text:
        return None, None
    if "/" in text:
        name, _, version = text.partition("/")
        return name or None, version or None
    parts = text.split(maxsplit=1)
    return parts[0], parts[1] if len(parts) == 2 else None


def parse_initialize(result: JsonValue) -> InitializeResponse:
    """Validate the result; fill `serverInfo` from `userAgent` when the server omits it."""
    if not isinstance(result, dict):
        raise CodexError("initialize returned a non-object result")
    response = InitializeResponse.model_validate(result)
    user_agent = (response.userAgent or "").strip()
    name = (response.serverInfo.name or "").strip() if response.serverInfo else ""
    version = (response.serverInfo.version or "").strip() if response.serverInfo else ""
    if (not name or not version) and user_agent:
        parsed_name, parsed_version = split_user_agent(user_agent)
        name = name or (parsed_name or "")
        version = version or (parsed_version or "")
    if not user_agent or not name or not version:
        raise CodexError(
            "initialize response missing required metadata "
            f"(userAgent={user_agent!r}, server name={name!r}, server version={version!r})"
        )
    response.serverInfo = ServerInfo(name=name, version=version)
    return response
