"""Makes the harness modules importable for tests outside this directory too
(the seed acceptance test is run from its own location)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
