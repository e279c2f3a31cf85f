"""A test that lacks something skips locally with how to install it; under CI=true it fails."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(available: bool, what: str, how_to_install: str) -> None:
    if available:
        return
    message = f"{what} is missing; install it with: {how_to_install}"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)
