"""Running `python -m pipulate ...` as a user would, and checking its one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without PIPULATE_* settings (they would change what is tested)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPULATE_")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipulate", *args],
        cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout,
    )


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
