"""The platform's notion of "now": a clock type that tests can replace, and the real one."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Seconds since the epoch, like ``time.time``; tests pass a fake one they can move forward."""


def system_clock() -> float:
    return time.time()
