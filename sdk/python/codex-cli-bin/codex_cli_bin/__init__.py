"""This runtime's `codex` binary, packaged where the official `openai-codex` SDK looks.

The official SDK calls `bundled_codex_path()` (and `bundled_path_dir()` for helper
tools to put on PATH; this runtime needs none), so an application on that SDK runs
this binary once this wheel replaces `openai-codex-cli-bin`.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_NAME = "openai-codex-cli-bin"
PACKAGE_METADATA_FILENAME = "codex-package.json"


def bundled_package_dir() -> Path:
    """This package's directory (it holds `bin/codex` and the package metadata)."""
    path = Path(__file__).resolve().parent
    if not (path / PACKAGE_METADATA_FILENAME).is_file():
        raise FileNotFoundError(f"{PACKAGE_NAME} is missing {PACKAGE_METADATA_FILENAME} in {path}")
    return path


def bundled_codex_path() -> Path:
    """The packaged `codex` binary."""
    path = bundled_package_dir() / "bin" / ("codex.exe" if os.name == "nt" else "codex")
    if not path.is_file():
        raise FileNotFoundError(f"{PACKAGE_NAME} is missing its codex binary at {path}")
    return path


def bundled_path_dir() -> Path | None:
    """Helper tools to put on PATH: none, the binary is self-contained."""
    return None


__all__ = ["PACKAGE_NAME", "bundled_codex_path", "bundled_package_dir", "bundled_path_dir"]
