"""Running `python -m pipulate ...` as a user would, and checking its one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .requirements import require
from .timing import scaled


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without PIPULATE_* settings (they would change what is tested)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPULATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def run_cli(
    *args: str, cwd: Path, env: dict | None = None, timeout: float = 20, wrapper: list[str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m pipulate ARGS`; `wrapper` goes before the command (e.g. unprivileged())."""
    return subprocess.run(
        [*(wrapper or []), sys.executable, "-m", "pipulate", *args],
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=scaled(timeout),
    )


def unprivileged() -> list[str]:
    """A command prefix under which file permission bits apply. Nothing for a normal user; for root
    (CI runs as root), setpriv drops the two capabilities that let root ignore them. Root still owns
    its files then, so the interpreter and the venv stay usable, unlike running as `nobody`."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    require(setpriv is not None, "setpriv (to test permissions as root)", "apt-get install -y util-linux")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def assert_one_line_error(result: subprocess.CompletedProcess, code: int | None = None, mentions: str = "") -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    if code is None:
        assert result.returncode != 0, output
    else:
        assert result.returncode == code, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    line = lines[0]
    assert line.startswith("pipulate") and "error:" in line, line
    assert mentions.lower() in line.lower(), line
    assert "is running" not in result.stdout, result.stdout  # it did not claim to have started
    return line
