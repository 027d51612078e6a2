"""Unit tests for what the SDK puts on the wire and how it reads replies."""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import types
from pathlib import Path

import pytest

import openai_codex
from openai_codex import (
    ApprovalMode,
    AsyncCodex,
    AsyncThread,
    AsyncTurnHandle,
    Codex,
    CodexBinaryNotFoundError,
    CodexConfig,
    ImageInput,
    InvalidRequestError,
    LocalImageInput,
    MethodNotFoundError,
    Sandbox,
    ServerBusyError,
    TextInput,
    Thread,
    TurnHandle,
)
from openai_codex import _params as params
from openai_codex._approvals import reply_for, reply_for_exception
from openai_codex._config import find_codex_bin, launch_argv
from openai_codex._handshake import parse_initialize
from openai_codex._options import ThreadStartOptions
from openai_codex._protocol import ErrorResponse, Response, ServerRequest, decode, encode
from openai_codex.errors import CodexRpcError, JsonRpcError, map_jsonrpc_error


def test_thread_start_defaults_to_auto_review() -> None:
    body = params.thread_start(ApprovalMode.auto_review, {})
    assert body == {"approvalPolicy": "on-request", "approvalsReviewer": "auto_review"}


def test_thread_start_deny_all_and_sandbox_mode() -> None:
    opts: ThreadStartOptions = {"sandbox": Sandbox.full_access, "cwd": "/w", "model": None}
    body = params.thread_start(ApprovalMode.deny_all, opts)
    assert body == {"approvalPolicy": "never", "sandbox": "danger-full-access", "cwd": "/w"}


def test_options_map_to_camel_case_wire_names() -> None:
    body = params.thread_start(
        ApprovalMode.ask_user,
        {"base_instructions": "b", "service_name": "svc", "session_start_source": None},
    )
    assert body == {
        "approvalPolicy": "untrusted",
        "approvalsReviewer": "user",
        "baseInstructions": "b",
        "serviceName": "svc",
    }
    listing = params.thread_list({"archived": True, "search_term": "x", "use_state_db_only": False})
    assert listing == {"archived": True, "searchTerm": "x", "useStateDbOnly": False}


def test_unknown_option_is_a_type_error_naming_the_method() -> None:
    with pytest.raises(TypeError, match="turn\\(\\) got an unexpected keyword argument 'efort'"):
        params.turn_start("th", "hi", {"efort": "high"})  # type: ignore[typeddict-unknown-key]


def test_turn_start_wire_shape() -> None:
    body = params.turn_start(
        "th",
        [TextInput("hi"), ImageInput("https://x/y.png"), LocalImageInput("/tmp/a.png")],
        {"sandbox": Sandbox.workspace_write, "source": "cron", "turn_service_tier": "flex"},
    )
    assert body == {
        "threadId": "th",
        "input": [
            {"type": "text", "text": "hi"},
            {"type": "image", "url": "https://x/y.png"},
            {"type": "localImage", "path": "/tmp/a.png"},
        ],
        "sandboxPolicy": {
            "type": "workspaceWrite",
            "writableRoots": [],
            "networkAccess": False,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        },
        "turnTrigger": "cron",
        "serviceTierForTurn": "flex",
    }


def test_resume_include_turns_maps_to_exclude_turns() -> None:
    assert params.thread_resume("t", {"include_turns": False})["excludeTurns"] is True
    assert "excludeTurns" not in params.thread_resume("t", {"include_turns": None})
    forked = params.thread_fork(
        "t", {"include_turns": True, "approval_mode": ApprovalMode.deny_all}
    )
    assert forked == {"threadId": "t", "excludeTurns": False, "approvalPolicy": "never"}


def test_steer_and_string_input() -> None:
    assert params.turn_steer("th", "tu", "more") == {
        "threadId": "th",
        "expectedTurnId": "tu",
        "input": [{"type": "text", "text": "more"}],
    }


def test_encode_omits_nothing_and_is_one_line() -> None:
    line = encode({"id": "1", "method": "m", "params": {"text": "a\nb"}})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {"id": "1", "method": "m", "params": {"text": "a\nb"}}


def test_decode_classifies_messages() -> None:
    assert decode(b'{"id":"a","result":{}}') == Response("a", {})
    assert decode('{"id":0,"method":"item/x","params":{"k":1}}') == ServerRequest(
        0, "item/x", {"k": 1}
    )
    err = decode('{"id":"b","error":{"code":-32600,"message":"bad"}}')
    assert isinstance(err, ErrorResponse) and isinstance(err.error, InvalidRequestError)
    assert decode(b"  \n") is None


def test_error_mapping() -> None:
    assert isinstance(map_jsonrpc_error(-32601, "x"), MethodNotFoundError)
    assert isinstance(
        map_jsonrpc_error(-32001, "busy", {"codexErrorInfo": "server_overloaded"}), ServerBusyError
    )
    assert type(map_jsonrpc_error(-32001, "Server overloaded; retry later.")) is CodexRpcError
    assert type(map_jsonrpc_error(1, "odd")) is JsonRpcError


def test_default_replies() -> None:
    approval = reply_for(7, "item/fileChange/requestApproval", None, "decline")
    assert approval == {"id": 7, "result": {"decision": "decline"}}
    unknown = reply_for(8, "item/tool/call", None, "accept")
    assert unknown["error"]["code"] == -32601  # type: ignore[index]
    bad = reply_for(9, "item/commandExecution/requestApproval", "yes", "accept")
    assert bad["error"]["code"] == -32603  # type: ignore[index]
    method = "item/fileChange/requestApproval"
    raised = reply_for_exception(10, method, InvalidRequestError(-32600, "nope"), "accept")
    assert raised == {"id": 10, "error": {"code": -32600, "message": "nope"}}
    cancelled = reply_for_exception(11, method, asyncio.CancelledError(), "decline")
    assert cancelled == {"id": 11, "result": {"decision": "decline"}}


def test_initialize_derives_server_info_from_user_agent() -> None:
    init = parse_initialize({"userAgent": "codex_python_sdk/0.163.0 (Linux; x86_64) xterm"})
    assert init.serverInfo is not None
    assert init.serverInfo.name == "codex_python_sdk"
    assert init.serverInfo.version == "0.163.0 (Linux; x86_64) xterm"
    explicit = parse_initialize(
        {"userAgent": "ua/1", "serverInfo": {"name": "srv", "version": "2"}}
    )
    assert explicit.serverInfo is not None and explicit.serverInfo.name == "srv"


def test_launch_argv_puts_config_before_subcommand(tmp_path: Path) -> None:
    binary = tmp_path / "codex"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    config = CodexConfig(codex_bin=str(binary), config_overrides=("a=1", 'b="x"'))
    assert launch_argv(config, {}) == [
        str(binary),
        "--config",
        "a=1",
        "--config",
        'b="x"',
        "app-server",
        "--listen",
        "stdio://",
    ]
    override = CodexConfig(launch_args_override=("x", "y"))
    assert launch_argv(override, {}) == ["x", "y"]


def test_discovery_order(tmp_path: Path) -> None:
    pkg = tmp_path / "repo" / "sdk" / "src" / "openai_codex"
    pkg.mkdir(parents=True)
    (tmp_path / "repo" / "Cargo.toml").write_text("[workspace]\n")
    debug = tmp_path / "repo" / "target" / "debug" / "codex"
    debug.parent.mkdir(parents=True)
    debug.write_text("#!/bin/sh\n")
    debug.chmod(0o755)
    assert find_codex_bin(None, {"PATH": ""}, package_dir=pkg) == debug
    bundled = pkg / "bin" / "codex"
    bundled.parent.mkdir()
    bundled.write_text("#!/bin/sh\n")
    bundled.chmod(0o755)
    assert find_codex_bin(None, {"PATH": ""}, package_dir=pkg) == bundled
    assert find_codex_bin(None, {"CODEX_BIN": str(debug)}, package_dir=pkg) == debug
    with pytest.raises(CodexBinaryNotFoundError, match="codex_bin"):
        find_codex_bin(str(tmp_path / "missing"), {}, package_dir=pkg)


def test_codex_cli_bin_package_comes_after_the_bundled_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "repo" / "sdk" / "src" / "openai_codex"
    pkg.mkdir(parents=True)
    (tmp_path / "repo" / "Cargo.toml").write_text("[workspace]\n")
    debug = tmp_path / "repo" / "target" / "debug" / "codex"
    packaged = tmp_path / "cli_bin" / "bin" / "codex"
    for binary in (debug, packaged):
        binary.parent.mkdir(parents=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    module = types.ModuleType("codex_cli_bin")
    module.bundled_codex_path = lambda: packaged  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "codex_cli_bin", module)
    assert find_codex_bin(None, {"PATH": ""}, package_dir=pkg) == packaged


@pytest.mark.parametrize(
    ("sync_cls", "async_cls"),
    [(Codex, AsyncCodex), (Thread, AsyncThread), (TurnHandle, AsyncTurnHandle)],
)
def test_sync_and_async_signatures_match(sync_cls: type, async_cls: type) -> None:
    public = [n for n in dir(sync_cls) if not n.startswith("_") and callable(getattr(sync_cls, n))]
    for name in public:
        sync_sig = inspect.signature(getattr(sync_cls, name))
        async_sig = inspect.signature(getattr(async_cls, name))
        assert list(sync_sig.parameters) == list(async_sig.parameters), name
        for p_name, p in sync_sig.parameters.items():
            assert p.default == async_sig.parameters[p_name].default, (name, p_name)


def test_public_exports_resolve() -> None:
    for name in openai_codex.__all__:
        assert hasattr(openai_codex, name), name
    import openai_codex.types as types

    for name in types.__all__:
        assert hasattr(types, name), name
