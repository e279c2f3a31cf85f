"""Fixtures for the flake tests: Nix itself (skip locally, fail under CI=true when missing) and a
throw-away git copy of the repository shared by the tests that only evaluate."""

from __future__ import annotations

import os
import shutil
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
