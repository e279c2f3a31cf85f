"""The shell scripts' helpers: `scripts/_venv.sh`'s installs say what they are doing as they go
(building llama.cpp takes minutes; pip is silent when not on a terminal)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support.timing import scaled

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
FAKE_PIP = """
echo "Collecting llama-cpp-python==0.3.36"
sleep 1.5
echo "  [ 42%] Building C object vendor/llama.cpp/ggml/src/CMakeFiles/ggml-base.dir/ggml.c.o"
sleep 1.5
echo "Successfully installed llama-cpp-python-0.3.36"
"""


def run_with_progress(body: str) -> subprocess.CompletedProcess:
    script = f'source "{SCRIPTS / "_venv.sh"}"\nwith_progress "installing .[test]" bash -c \'{body}\''
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=scaled(60))


def test_an_install_says_what_it_does_while_it_runs():
    result = run_with_progress(FAKE_PIP)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(line.startswith("pipulate: installing .[test] (") and line.endswith("Collecting llama-cpp-python==0.3.36")
               for line in lines), lines
    assert any("[ 42%] Building C object" in line for line in lines), lines
    assert any(line.endswith("Successfully installed llama-cpp-python-0.3.36") for line in lines), lines
    assert result.stdout == ""  # pip's own output is not repeated when all went well


def test_a_failed_install_shows_all_it_said_and_fails():
    result = run_with_progress('echo "Collecting nope"; echo "ERROR: No matching distribution found for nope"; exit 3')
    assert result.returncode == 3
    assert "ERROR: No matching distribution found for nope" in result.stderr
