"""Test harness: a real app-server pointed at a local mock of the Responses API.

`AppServerHarness(tmp_path)` starts `MockResponsesServer` (stdlib HTTP server
in a background thread, speaking Responses SSE) and builds a `CodexConfig`
whose `--config` overrides send model traffic there, with an isolated
CODEX_HOME. Responses are served in the order they were enqueued; a request
with nothing queued gets HTTP 500 (which fails the turn, since retries are 0).
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from openai_codex import CodexConfig

Event = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request the mock received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Gate:
    """Holds a scripted SSE response after its first `hold_after` events until released."""

    hold_after: int = 1
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    def wait_reached(self, timeout: float = 10.0) -> None:
        if not self.reached.wait(timeout):
            raise AssertionError("mock response never reached its gate")

    def release(self) -> None:
        self.released.set()


@dataclass
class _Scripted:
    events: list[Event]
    gate: Gate | None = None
    status: int = 200


def usage(input_tokens: int = 10, output_tokens: int = 5, cached: int = 0) -> Event:
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def ev_created(response_id: str) -> Event:
    return {"type": "response.created", "response": {"id": response_id}}


def ev_completed(response_id: str, tokens: Event | None = None) -> Event:
    return {
        "type": "response.completed",
        "response": {"id": response_id, "usage": tokens or usage()},
    }


def ev_failed(response_id: str, message: str, code: str = "server_error") -> Event:
    return {
        "type": "response.failed",
        "response": {"id": response_id, "error": {"code": code, "message": message}},
    }


def ev_message_added(item_id: str) -> Event:
    return {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "message", "role": "assistant", "id": item_id, "content": []},
    }


def ev_text_delta(item_id: str, delta: str) -> Event:
    return {
        "type": "response.output_text.delta",
        "item_id": item_id,
        "output_index": 0,
        "content_index": 0,
        "delta": delta,
    }


def ev_message_done(item_id: str, text: str) -> Event:
    return {
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "message",
            "role": "assistant",
            "id": item_id,
            "content": [{"type": "output_text", "text": text}],
        },
    }


def ev_function_call(call_id: str, name: str, arguments: Event) -> Event:
    return {
        "type": "response.output_item.done",
        "output_index": 0,
        "item": {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": name,
            "arguments": json.dumps(arguments),
        },
    }


def assistant_message_events(
    text: str, *, response_id: str, deltas: list[str] | None = None, tokens: Event | None = None
) -> list[Event]:
    """A complete response that streams `text` (as `deltas` if given) as one message."""
    item_id = f"msg_{response_id}"
    pieces = deltas if deltas is not None else [text]
    return [
        ev_created(response_id),
        ev_message_added(item_id),
        *(ev_text_delta(item_id, piece) for piece in pieces),
        ev_message_done(item_id, text),
        ev_completed(response_id, tokens),
    ]


class MockResponsesServer:
    """A local Responses API: records requests, replays scripted SSE streams."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._script: deque[_Scripted] = deque()
        self._requests: list[RecordedRequest] = []
        self._open_gates: list[Gate] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.mock = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mock-responses", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        with self._cond:
            gates = list(self._open_gates)
        for gate in gates:
            gate.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def enqueue_sse(self, events: list[Event], *, gate: Gate | None = None) -> None:
        """Queue one response made of these SSE events (optionally held at `gate`)."""
        with self._cond:
            self._script.append(_Scripted(list(events), gate))
            if gate is not None:
                self._open_gates.append(gate)

    def enqueue_assistant_message(
        self,
        text: str,
        *,
        response_id: str = "resp-1",
        deltas: list[str] | None = None,
        tokens: Event | None = None,
    ) -> None:
        """Queue a response whose only output is an assistant message with `text`."""
        self.enqueue_sse(
            assistant_message_events(text, response_id=response_id, deltas=deltas, tokens=tokens)
        )

    def enqueue_http_error(self, status: int = 500) -> None:
        """Queue a plain HTTP error response."""
        with self._cond:
            self._script.append(_Scripted([], None, status))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the requests received so far, in arrival order."""
        with self._cond:
            return list(self._requests)

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least `count` requests arrived; returns them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout):
                raise AssertionError(
                    f"expected {count} mock requests within {timeout}s, got {len(self._requests)}"
                )
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> _Scripted | None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()
            return self._script.popleft() if self._script else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read_body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _mock(self) -> MockResponsesServer:
        mock: MockResponsesServer = self.server.mock  # type: ignore[attr-defined]
        return mock

    def _send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._read_body()
        if self.path.split("?", 1)[0].endswith("/models"):
            self._send_json(200, {"object": "list", "data": [], "models": []})
            return
        self._send_json(404, {"error": {"message": f"unexpected GET {self.path}"}})

    def do_POST(self) -> None:
        body = self._read_body()
        headers = {key.lower(): value for key, value in self.headers.items()}
        scripted = self._mock()._record(RecordedRequest("POST", self.path, headers, body))
        if not self.path.split("?", 1)[0].endswith(("/responses", "/responses/compact")):
            self._send_json(404, {"error": {"message": f"unexpected POST {self.path}"}})
            return
        if scripted is None:
            self._send_json(500, {"error": {"message": "mock has no queued response"}})
            return
        if scripted.status != 200:
            self._send_json(scripted.status, {"error": {"message": "scripted HTTP error"}})
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for index, event in enumerate(scripted.events):
                frame = f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"
                self.wfile.write(frame.encode())
                self.wfile.flush()
                gate = scripted.gate
                if gate is not None and index + 1 == gate.hold_after:
                    gate.reached.set()
                    gate.released.wait(timeout=60)
        except (BrokenPipeError, ConnectionResetError):
            return


def codex_bin_from_env() -> str:
    """The binary under test: $CODEX_BIN, else our SDK's normal discovery.

    Only public API is used when CODEX_BIN is set, so the official SDK can run these tests
    too (the conformance run always sets it)."""
    explicit = os.environ.get("CODEX_BIN")
    if explicit:
        return explicit
    from openai_codex._config import find_codex_bin

    return str(find_codex_bin(None, dict(os.environ)))


class AppServerHarness:
    """Isolated CODEX_HOME + workspace + mock Responses server for one test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = Path(tmp_path)
        self.codex_home = self.tmp_path / "codex-home"
        self.workspace = self.tmp_path / "workspace"
        self.responses = MockResponsesServer()

    def __enter__(self) -> AppServerHarness:
        self.codex_home.mkdir(parents=True, exist_ok=True)
        self.workspace.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.responses.close()

    def config_overrides(self) -> tuple[str, ...]:
        provider = (
            '{name="mock", '
            f'base_url="{self.responses.url}/v1", '
            'wire_api="responses", request_max_retries=0, stream_max_retries=0, '
            "requires_openai_auth=false}"
        )
        return (
            'model="mock-model"',
            'model_provider="mock"',
            f"model_providers.mock={provider}",
        )

    def app_server_config(self, **changes: Any) -> CodexConfig:
        """CodexConfig for the binary under test, talking only to the mock."""
        config = CodexConfig(
            codex_bin=codex_bin_from_env(),
            config_overrides=self.config_overrides(),
            cwd=str(self.workspace),
            env={
                "CODEX_HOME": str(self.codex_home),
                "CODEX_APP_SERVER_DISABLE_MANAGED_CONFIG": "1",
                "RUST_LOG": "warn",
            },
        )
        for key, value in changes.items():
            setattr(config, key, value)
        return config
