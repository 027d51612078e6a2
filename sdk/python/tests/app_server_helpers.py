"""Small helpers shared by the app-server tests."""

from __future__ import annotations


def request_kind(path: str) -> str:
    """Classify a mock Responses request path.

    `/v1/responses` -> "responses", `/v1/responses/compact` -> "compact",
    anything else -> its last path segment.
    """
    bare = path.split("?", 1)[0].rstrip("/")
    if bare.endswith("/responses/compact"):
        return "compact"
    if bare.endswith("/responses") or bare == "responses":
        return "responses"
    return bare.rsplit("/", 1)[-1]
