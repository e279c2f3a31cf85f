"""Fixtures for the variant tests: copier and git (skip locally, fail under CI=true when
missing), a versioned template repository and a venv shared by the session."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.support.requirements import require

from .support import make_template, make_venv


@pytest.fixture(scope="session")
def tools() -> None:
    require(importlib.util.find_spec("copier") is not None, "copier", "pip install -e '.[test]' (or '.[variants]')")
    require(shutil.which("git") is not None, "git", "apt-get install -y git")


@pytest.fixture(scope="session")
def template(tools, tmp_path_factory) -> Path:
    """A git copy of this repository, committed and tagged v0.1.0: the template source."""
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def venv_python(tools, tmp_path_factory) -> Path:
    """A venv that sees this interpreter's packages (pipulate from this checkout, pytest...)."""
    require(importlib.util.find_spec("pip") is not None, "pip", "python -m ensurepip")
    require(can_build_editable(), "setuptools>=70.1 (or wheel)", "pip install -e '.[test]'")
    return make_venv(tmp_path_factory.mktemp("venv"))


def can_build_editable() -> bool:
    """An offline editable install needs bdist_wheel: in setuptools since 70.1, else from wheel."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(part) for part in (version.split(".") + ["0"])[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None
