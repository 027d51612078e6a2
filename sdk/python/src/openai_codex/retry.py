"""`retry_on_overload`: retry a call while the server reports overload."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import is_retryable_error

T = TypeVar("T")


def retry_on_overload(
    op: Callable[[], T],
    *,
    max_attempts: int = 3,
    initial_delay_s: float = 0.25,
    max_delay_s: float = 2.0,
    jitter_ratio: float = 0.2,
) -> T:
    """Call `op`, retrying retryable errors with capped exponential backoff and jitter."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be >= 1")
    delay = initial_delay_s
    for attempt in range(1, max_attempts + 1):
        try:
            return op()
        except Exception as exc:
            if attempt == max_attempts or not is_retryable_error(exc):
                raise
            capped = min(delay, max_delay_s)
            pause = capped + random.uniform(-capped * jitter_ratio, capped * jitter_ratio)
            if pause > 0:
                time.sleep(pause)
            delay = min(delay * 2, max_delay_s)
    raise AssertionError("unreachable")
