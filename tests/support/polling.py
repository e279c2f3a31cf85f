"""Waiting for a condition in a page without `page.wait_for_function`, whose string predicates the
app's Content-Security-Policy (no 'unsafe-eval') may refuse to run."""

from __future__ import annotations

import time

from .timing import scaled


def wait_until(page, expression: str, timeout: float = 10.0, interval: float = 0.05):
    """Poll `expression` (a JavaScript function, e.g. "() => window.htmx !== undefined") with
    page.evaluate, which the page's CSP does not restrict, until it is truthy."""
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not true within {scaled(timeout):g} s: {expression}")
        time.sleep(interval)
