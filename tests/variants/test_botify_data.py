"""Botifython with its data folder somewhere else: the token and the databases stay out of git, and
the token file's permissions are fixed when the app starts, not when the token is first read.

A generated Botifython project, installed offline, served by `pipulate serve --data-dir DIR` for
data folders inside the project that are not `data/`; the token is set with the project's own
token command (against the fake Botify on 127.0.0.1).
"""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.support.cli import clean_env
from tests.support.fake_botify import VALID_TOKEN, FakeBotify
from tests.support.timing import scaled

from .support import git, new_variant, pip_install_editable, serve

SLUG = "acme-botify"


@pytest.fixture(scope="module")
def project(template, venv_python, tmp_path_factory):
    folder = tmp_path_factory.mktemp("botify-data")
    project = new_variant(template, "botifython", folder / "acme", "--name", "Acme Botify")
    pip_install_editable(venv_python, project)
    return project


def set_token(venv_python, project, data_dir, fake) -> None:
    command = venv_python.parent / f"{SLUG}-token"
    result = subprocess.run(
        [str(command), "--data-dir", str(data_dir), "set"], input=VALID_TOKEN + "\n", cwd=project,
        env=clean_env(BOTIFY_API_URL=fake.url), capture_output=True, text=True, timeout=scaled(60),
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("data_dir", ["my-data", "state/nested", ".local-data"])
def test_git_add_takes_neither_the_token_nor_any_database(project, venv_python, data_dir):
    where = project / data_dir
    server = serve(venv_python, project, where)  # creates the database, WAL on
    try:
        with FakeBotify() as fake:
            set_token(venv_python, project, where, fake)
        assert (where / "botify-token").is_file() and (where / f"{SLUG}.db").is_file()
        assert list(where.glob(f"{SLUG}.db-*"))  # the WAL files exist while the server runs
        added = git(project, "add", "--dry-run", "-A")
        status = git(project, "status", "--porcelain", "--untracked-files=all")
    finally:
        server.stop()
    assert added == "" and status == "", f"git would add: {added or status}"


def test_a_token_file_readable_by_others_is_narrowed_when_the_app_starts(project, venv_python, tmp_path):
    data_dir = tmp_path / "data"
    with FakeBotify() as fake:
        set_token(venv_python, project, data_dir, fake)
    token_file = data_dir / "botify-token"
    token_file.chmod(0o644)  # as a copy or a restore from a backup may leave it
    server = serve(venv_python, project, data_dir)  # waits for "/" (the to-do app), never /botify
    try:
        if os.name == "posix":
            assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        log = server.log()
    finally:
        server.stop()
    assert "its permissions are now 0600" in log
    assert "GET /botify" not in log and "/botify/" not in log  # fixed at start-up, never read
    assert VALID_TOKEN not in log
