"""Our public API against the official `openai-codex` 0.163.0 package, signature by signature.

`public_api_dump.py` prints each package's API under its own interpreter (ours,
and the official SDK's venv: `$OFFICIAL_CODEX_PYTHON`, else
`target/official-venv/bin/python`, which `scripts/conformance` installs and where
it runs this test). Every official name, method and parameter must exist here
with the same kind, default and type; extra parameters of ours must be optional
keywords. `**options: Unpack[...]` counts as the keywords it declares, which is
what a type checker sees. Deliberate differences are listed below with reasons.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

DUMP = Path(__file__).with_name("public_api_dump.py")
REPO = Path(__file__).resolve().parents[3]

# Not implemented by this SDK: ChatGPT browser and device-code login.
MISSING_NAMES = {
    "ChatgptLoginHandle",
    "DeviceCodeLoginHandle",
    "AsyncChatgptLoginHandle",
    "AsyncDeviceCodeLoginHandle",
}
MISSING_METHODS = {"login_chatgpt", "login_chatgpt_device_code"}
# Extensions of ours (the official client reads threads only through `Thread.read`).
EXTRA_METHODS = {"thread_read"}
# Our `ExternalMessage.content` accepts any pydantic model, the official one only
# `FunctionCallOutputContentItem` (a pydantic model): a wider type, callers unaffected.
WIDER_TYPES = {("ExternalMessage", "content"): "str | Sequence[JsonObject | BaseModel]"}


def _official_python() -> Path | None:
    explicit = os.environ.get("OFFICIAL_CODEX_PYTHON")
    candidate = Path(explicit) if explicit else REPO / "target" / "official-venv" / "bin" / "python"
    return candidate if candidate.is_file() else None


def _dump(python: str | Path) -> dict[str, Any]:
    # From a neutral directory, so only the installed package can be imported.
    output = subprocess.run(
        [str(python), str(DUMP)], capture_output=True, text=True, check=True, cwd=DUMP.root
    )
    api: dict[str, Any] = json.loads(output.stdout)
    return api


def _normal(annotation: str) -> str:
    """Spellings that mean the same type: class reprs, quotes, generator vs iterator."""
    text = re.sub(r"<class '(\w+)'>", r"\1", annotation).replace('"', "")
    text = re.sub(r"AsyncGenerator\[(\w+), None\]", r"AsyncIterator[\1]", text)
    return re.sub(r"Generator\[(\w+), None, None\]", r"Iterator[\1]", text)


def _compare_method(where: str, official: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    problems = []
    theirs = {p["name"]: p for p in official["params"] if not p["name"].startswith("_")}
    mine = {p["name"]: p for p in ours["params"] if not p["name"].startswith("_")}
    positional = [name for name, p in theirs.items() if p["kind"] == "POSITIONAL_OR_KEYWORD"]
    if positional != [name for name, p in mine.items() if p["kind"] == "POSITIONAL_OR_KEYWORD"]:
        problems.append(f"{where}: positional parameters differ")
    for name, param in theirs.items():
        match = mine.get(name)
        if match is None:
            problems.append(f"{where}: parameter {name} missing")
            continue
        for key in ("kind", "default"):
            if param[key] != match[key]:
                problems.append(f"{where}({name}): {key} {match[key]!r} != {param[key]!r}")
        if _normal(param["type"]) != _normal(match["type"]):
            problems.append(f"{where}({name}): type {match['type']!r} != {param['type']!r}")
    for name, param in mine.items():
        if name not in theirs and (param["kind"] != "KEYWORD_ONLY" or not param["default"]):
            problems.append(f"{where}: extra parameter {name} must be an optional keyword")
    returns = (_normal(official["returns"]), _normal(ours["returns"]))
    if returns[0] != returns[1] and returns[1] != "Self":
        problems.append(f"{where}: returns {ours['returns']!r} != {official['returns']!r}")
    if official["async"] != ours["async"]:
        problems.append(f"{where}: async differs")
    return problems


def _compare(official: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    problems = []
    for name, spec in official.items():
        mine = ours.get(name)
        if mine is None:
            if name not in MISSING_NAMES:
                problems.append(f"{name}: not exported")
            continue
        for method, signature in spec.get("methods", {}).items():
            if method in MISSING_METHODS:
                continue
            if method not in mine["methods"]:
                problems.append(f"{name}.{method}: missing")
                continue
            problems += _compare_method(f"{name}.{method}", signature, mine["methods"][method])
        extra = set(mine.get("methods", {})) - set(spec.get("methods", {}))
        extra -= EXTRA_METHODS | {"__init__"}
        problems += [f"{name}.{method}: extra public method" for method in sorted(extra)]
        members = {tuple(m) for m in spec.get("members", [])}
        if not members <= {tuple(m) for m in mine.get("members", [])}:
            problems.append(f"{name}: enum members missing")
        if mine.get("fields"):
            theirs = [
                [f, WIDER_TYPES.get((name, f), _normal(t))]
                for f, t in spec.get("fields", [])
                if not f.startswith("_")
            ]
            if theirs != [[f, _normal(t)] for f, t in mine["fields"]]:
                problems.append(f"{name}: fields {mine['fields']} != {theirs}")
        if spec.get("function") != mine.get("function"):
            problems.append(f"{name}: function signature differs")
    return problems


def test_public_api_matches_the_official_sdk() -> None:
    official_python = _official_python()
    if official_python is None:
        pytest.skip("official SDK venv not installed (scripts/conformance installs it)")
    official = _dump(official_python)
    for (name, field), wider in WIDER_TYPES.items():
        for param in official[name]["methods"]["__init__"]["params"]:
            if param["name"] == field:
                param["type"] = wider
    assert _compare(official, _dump(sys.executable)) == []


def test_the_comparison_catches_a_changed_signature() -> None:
    method = {
        "params": [{"name": "limit", "kind": "KEYWORD_ONLY", "default": "None", "type": "int"}],
        "returns": "X",
        "async": False,
    }
    changed = {**method, "params": [{**method["params"][0], "type": "str"}]}
    extra = {
        **method,
        "params": [*method["params"], {**method["params"][0], "name": "n", "default": ""}],
    }
    assert _compare_method("m", method, method) == []
    assert _compare_method("m", method, changed) == ["m(limit): type 'str' != 'int'"]
    assert _compare_method("m", method, extra) == [
        "m: extra parameter n must be an optional keyword"
    ]
