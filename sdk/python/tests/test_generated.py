"""The committed generated models must equal a fresh generation (drift check)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parent.parent
SCRIPT = SDK / "scripts" / "generate_models.py"


def _schema() -> Path:
    override = os.environ.get("CODEX_SDK_SCHEMA")
    if override:
        return Path(override)
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import generate_models

        path: Path = generate_models.DEFAULT_SCHEMA
    finally:
        sys.path.pop(0)
    return path


def test_generated_models_match_schema() -> None:
    schema = _schema()
    if not schema.is_file():
        pytest.skip(f"schema bundle not present: {schema}")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check", str(schema)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
