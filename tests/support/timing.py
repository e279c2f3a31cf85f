"""Time bounds that hold on a busy machine.

Every bound a test sets (a timeout, a deadline, an assertion that something happened "within N
seconds") is `scaled(N)`: N times PIPULATE_TEST_TIME_FACTOR (default 1; raise it on a slow or
shared machine, e.g. 3). Helpers in tests/support take nominal seconds and scale them themselves;
a test scales the bounds it uses directly (deadline arithmetic, `recv(timeout=...)`,
`subprocess.run(timeout=...)`, `assert took < ...`). Timeouts given *to the product* (a read
timeout under test) are inputs, not bounds, and are not scaled; nor are lower bounds ("it waited
at least 1 s").

Waits poll a condition until a deadline (`poll`) instead of sleeping a fixed time: a fixed sleep
is either too short on a busy machine or wasted on an idle one, and a check made after it may
pass only because the thing it looks for has not happened yet.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TypeVar

FACTOR_VARIABLE = "PIPULATE_TEST_TIME_FACTOR"
T = TypeVar("T")


def time_factor() -> float:
    text = os.environ.get(FACTOR_VARIABLE, "").strip()
    if not text:
        return 1.0
    try:
        factor = float(text)
    except ValueError:
        raise ValueError(f"{FACTOR_VARIABLE} must be a number (e.g. 2), not {text!r}") from None
    if not 0 < factor <= 100:
        raise ValueError(f"{FACTOR_VARIABLE} must be above 0 and at most 100, not {text!r}")
    return factor


def scaled(seconds: float) -> float:
    """A time bound of `seconds` on an idle machine, stretched by PIPULATE_TEST_TIME_FACTOR."""
    return seconds * time_factor()


def poll(condition: Callable[[], T], timeout: float, what: str = "", interval: float = 0.02) -> T:
    """Call `condition` until it returns something truthy, and return that; AssertionError naming
    `what` after scaled(timeout) seconds. The condition is checked once more at the deadline."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {scaled(timeout):g} s: {what or condition}")
        time.sleep(interval)


def ms(seconds: float) -> float:
    """scaled(seconds) in milliseconds, as Playwright takes its timeouts."""
    return scaled(seconds) * 1000
