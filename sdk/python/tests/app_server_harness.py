"""Test harness: a real app-server pointed at the project's mock of the Responses API.

`AppServerHarness(tmp_path)` starts `MockResponsesServer` (the `codex-mock-model`
binary from crates/mock-model, the same mock the Rust tests use, scripted over
its `/_mock/` control API) and builds a `CodexConfig` whose `--config`
overrides send model traffic there, with an isolated CODEX_HOME. Responses are
served in the order they were enqueued; a request with nothing queued gets HTTP
500 (which fails the turn, since retries are 0).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from openai_codex import CodexConfig

Event = dict[str, Any]
_REPO = Path(__file__).resolve().parents[3]
_STARTUP_TIMEOUT_S = 10.0


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
    _mock: MockResponsesServer | None = field(default=None, repr=False)
    _ordinal: int = 0

    def _attach(self, mock: MockResponsesServer, ordinal: int) -> None:
        self._mock, self._ordinal = mock, ordinal

    def _attached(self) -> MockResponsesServer:
        if self._mock is None:
            raise AssertionError("gate was never enqueued")
        return self._mock

    def wait_reached(self, timeout: float = 10.0) -> None:
        """Block until this response (and every gated one queued before it) is at its gate."""
        reached, _ = self._attached().wait(timeout=timeout, gates_reached=self._ordinal)
        if not reached:
            raise AssertionError("mock response never reached its gate")

    def release(self) -> None:
        self._attached().release()


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


def mock_model_bin() -> str:
    """The `codex-mock-model` binary: $CODEX_MOCK_MODEL_BIN, else this checkout's cargo
    build (debug, then release), else PATH."""
    explicit = os.environ.get("CODEX_MOCK_MODEL_BIN")
    if explicit:
        return explicit
    for profile in ("debug", "release"):
        built = _REPO / "target" / profile / "codex-mock-model"
        if built.is_file():
            return str(built)
    on_path = shutil.which("codex-mock-model")
    if on_path is None:
        raise RuntimeError(
            "codex-mock-model not found: run `cargo build -p codex-mock-model` "
            "or set CODEX_MOCK_MODEL_BIN"
        )
    return on_path


def _sse(event: Event) -> Event:
    return {"event": event["type"], "data": event}


class MockResponsesServer:
    """The project's scripted model server (`codex-mock-model`), one process per harness.

    Replies are queued through its `/_mock/` control API and served in order; a
    request with nothing queued gets HTTP 500 (which fails the turn, since
    retries are 0). Waits block inside the mock (`POST /_mock/wait`), bounded by
    a timeout, instead of polling.
    """

    def __init__(self) -> None:
        # stdin stays open: the mock exits when it reaches EOF, so it cannot outlive us.
        self._proc = subprocess.Popen(
            [mock_model_bin(), "--port", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self._gated = 0
        try:
            self.url = self._read_url()
        except BaseException:
            self.close()
            raise

    def _read_url(self) -> str:
        """`http://127.0.0.1:PORT` from the mock's `listening <url>/v1` line."""
        stdout = self._proc.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], _STARTUP_TIMEOUT_S)
        line = stdout.readline().decode() if ready else ""
        if not line.startswith("listening "):
            raise RuntimeError(f"codex-mock-model did not start: {line!r}")
        return line.removeprefix("listening ").strip().removesuffix("/v1")

    def _control(self, method: str, command: str, body: Any = None, timeout: float = 10.0) -> Any:
        """One control request; returns (status, parsed JSON body)."""
        address = self.url.removeprefix("http://")
        connection = http.client.HTTPConnection(address, timeout=timeout + 5.0)
        try:
            payload = None if body is None else json.dumps(body)
            connection.request(method, f"/_mock/{command}", body=payload)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def _enqueue(self, spec: Event) -> None:
        status, reply = self._control("POST", "enqueue", spec)
        if status != 200:
            raise RuntimeError(f"codex-mock-model rejected a reply: {reply}")

    def enqueue_sse(self, events: list[Event], *, gate: Gate | None = None) -> None:
        """Queue one response made of these SSE events (optionally held at `gate`)."""
        if gate is None:
            self._enqueue({"type": "sse", "events": [_sse(e) for e in events]})
            return
        self._gated += 1
        gate._attach(self, self._gated)
        before, after = events[: gate.hold_after], events[gate.hold_after :]
        self._enqueue(
            {
                "type": "gated",
                "before": [_sse(e) for e in before],
                "after": [_sse(e) for e in after],
            }
        )

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
        body = json.dumps({"error": {"message": "scripted HTTP error"}})
        self._enqueue({"type": "status", "status": status, "body": body})

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of the requests received so far, in arrival order."""
        _, captured = self._control("GET", "requests")
        return [
            RecordedRequest(
                method=entry["method"],
                path=entry["path"],
                headers=dict(entry["headers"]),
                body=b"" if entry["body"] is None else json.dumps(entry["body"]).encode(),
            )
            for entry in captured
        ]

    def wait(self, *, timeout: float, **counts: int) -> tuple[bool, dict[str, Any]]:
        """Block until the mock has seen `counts` (`requests`, `gates_reached`)."""
        body = {**counts, "timeout_ms": int(timeout * 1000)}
        status, seen = self._control("POST", "wait", body, timeout=timeout)
        return status == 200, seen

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until at least `count` requests arrived; returns them all."""
        reached, seen = self.wait(timeout=timeout, requests=count)
        if not reached:
            raise AssertionError(
                f"expected {count} mock requests within {timeout}s, got {seen['requests']}"
            )
        return self.requests

    def release(self) -> None:
        """Let one gated response (waiting now, or the next to reach its gate) finish."""
        self._control("POST", "release")


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
            # $CODEX_BIN, else whatever SDK runs this finds its binary itself (ours: a
            # bundled binary, `codex_cli_bin`, this checkout's build, PATH; the official
            # SDK: `codex_cli_bin`), so installed wheels are tested as users get them.
            codex_bin=os.environ.get("CODEX_BIN") or None,
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
