"""A hung test stops with a clear message (pytest-timeout) instead of at CI's job limit.

The limit is `timeout` in [tool.pytest.ini_options] (seconds on an idle machine), scaled by
PIPULATE_TEST_TIME_FACTOR like every other time bound (tests/support/timing.py). `--timeout` or
PYTEST_TIMEOUT, when given, are used as they are; a test that needs longer says so with
`@pytest.mark.timeout(scaled(N))`. Under CI=true pytest-timeout must be installed.
"""

from __future__ import annotations

import os

import pytest

from .requirements import in_ci
from .timing import scaled


@pytest.hookimpl(tryfirst=True)  # before pytest-timeout's own pytest_configure reads the option
def pytest_configure(config):
    if not config.pluginmanager.hasplugin("timeout"):
        if in_ci():
            raise pytest.UsageError("CI=true and pytest-timeout is missing; install it with: pip install -e '.[test]'")
        return
    if config.getoption("timeout") is None and not os.environ.get("PYTEST_TIMEOUT"):
        default = config.getini("timeout")
        if default:
            config.option.timeout = scaled(float(default))
