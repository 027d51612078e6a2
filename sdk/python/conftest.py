"""pytest setup for every test directory of the SDK (`tests/`, `e2e/`, `wheel_checks/`):
makes the harness modules in `tests/` importable for tests elsewhere too (the seed
acceptance test is run from its own location), and adapts the warning policy when the
conformance run or a wheel check puts the official `openai-codex` SDK in place of ours."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parent
_TESTS = _ROOT / "tests"
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))

_OUR_PACKAGE = _ROOT / "src" / "openai_codex"

# The official SDK's `close()` terminates the app-server but never closes the child's
# stdout/stderr pipes, so the garbage collector reports them as unclosed files. Under
# `filterwarnings = error` that fails every test at teardown although nothing on the wire
# went wrong. Only that exact report is ignored, and only when the official SDK is loaded.
_OFFICIAL_SDK_PIPE_LEAK = (
    r"ignore:Exception ignored in. <_io.FileIO name=\d+ mode='rb' closefd=True>"
    ":pytest.PytestUnraisableExceptionWarning"
)


def _running_official_sdk() -> bool:
    import openai_codex

    # Our SDK runs from this checkout (editable install) or from its own wheel, which
    # carries `_core.py`; the official package has no such module.
    ours = Path(openai_codex.__file__).resolve().parent
    return ours != _OUR_PACKAGE and not (ours / "_core.py").is_file()


def pytest_configure(config: pytest.Config) -> None:
    if _running_official_sdk():
        config.addinivalue_line("filterwarnings", _OFFICIAL_SDK_PIPE_LEAK)
