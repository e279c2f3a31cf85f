"""Fixtures for the flake tests: Nix itself (skip locally, fail under CI=true when missing) and a
throw-away git copy of the repository shared by the tests that only evaluate."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

import pytest

from tests.support.requirements import require

from .support import HOW_TO_GET_NIX, make_git_copy


@pytest.fixture(scope="session")
def nix_env() -> dict[str, str]:
    """The environment for nix commands: flakes on, no binary cache (everything here is offline)."""
    require(shutil.which("nix") is not None and shutil.which("nix-instantiate") is not None, "Nix", HOW_TO_GET_NIX)
    require(shutil.which("git") is not None, "git", "apt-get install -y git")
    env = dict(os.environ)
    env["NIX_CONFIG"] = "experimental-features = nix-command flakes\nsubstituters =\n"
    return env


@pytest.fixture(scope="session")
def flake(nix_env, tmp_path_factory) -> Path:
    """A git copy of the repository shared by the tests that only evaluate."""
    return make_git_copy(tmp_path_factory.mktemp("flake"))


@pytest.fixture(scope="module")
def smoke_env(nix_env, tmp_path_factory):
    """PATH starts with this Python's folder (pipulate importable), HOME is a scratch folder."""
    if (sys.platform, platform.machine()) != ("linux", "x86_64"):
        pytest.skip("the stub's builds run on x86_64-linux only")
    env = dict(nix_env)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["HOME"] = str(tmp_path_factory.mktemp("home"))
    for name in ("XDG_DATA_HOME", "VIRTUAL_ENV", "PIPULATE_DATA_DIR", "PIPULATE_VENV", "OLLAMA_HOST", "PYTHONPATH"):
        env.pop(name, None)
    return env
