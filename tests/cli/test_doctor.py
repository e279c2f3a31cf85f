"""`pipulate doctor` as the user runs it: a subprocess, its exit code, its output, its JSON.

The model server is always a closed port on 127.0.0.1, so nothing leaves the machine and the
check is quick.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, clean_env
from tests.support.server import free_port
from tests.support.timing import scaled

NAMES = ["python", "numpy", "data_dir", "sqlite", "port", "model_server", "nix"]


def doctor(*args: str, cwd: Path, env: dict | None = None, data_dir: Path | None = None) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "pipulate", "doctor",
        "--port", str(free_port()),
        "--llm-url", f"http://127.0.0.1:{free_port()}",
        "--data-dir", str(data_dir or cwd / "data"),
        *args,
    ]
    return subprocess.run(
        command, cwd=cwd, env=env or clean_env(PYTHONIOENCODING="utf-8"),
        capture_output=True, text=True, encoding="utf-8", timeout=scaled(60),
    )


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_doctor_passes_with_warnings_and_prints_an_aligned_list(tmp_path):
    result = doctor(cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "Pipulate doctor"
    rows = [line for line in lines if line[:4] in ("  ✓ ", "  ! ", "  ✗ ")]
    assert [row.split()[1] for row in rows] == ["Python", "numpy", "Data", "SQLite", "Port", "Model", "Nix"]
    model_row = next(row for row in rows if "Model server" in row)
    assert model_row.startswith("  ! ")
    hint = lines[lines.index(model_row) + 1]
    assert hint.startswith(" " * (4 + len("Model server") + 2)) and "ollama serve" in hint
    assert "Everything the app needs is in place" in lines[-1]


def test_doctor_details_line_up_in_one_column(tmp_path):
    result = doctor(cwd=tmp_path)
    rows = [line for line in result.stdout.splitlines() if line[:4] in ("  ✓ ", "  ! ", "  ✗ ")]
    width = len("Model server")  # the longest name; every detail starts after it and two spaces
    assert all(line[4 + width:4 + width + 2] == "  " and line[4 + width + 2] != " " for line in rows), rows


def test_doctor_json_has_the_documented_shape(tmp_path):
    result = doctor("--json", cwd=tmp_path)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"ok", "checks"} and report["ok"] is True
    assert [check["name"] for check in report["checks"]] == NAMES
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "hint"}
        assert check["status"] in ("ok", "warn", "fail")
        assert isinstance(check["detail"], str) and check["detail"] and "\n" not in check["detail"]
        assert isinstance(check["hint"], str)
        assert bool(check["hint"]) == (check["status"] != "ok")
    model_server = report["checks"][5]
    assert model_server["status"] == "warn" and "ollama serve" in model_server["hint"]


def test_an_unwritable_data_dir_fails_with_a_readable_line(tmp_path):
    (tmp_path / "file").write_text("a regular file")
    data_dir = tmp_path / "file" / "data"
    result = doctor(cwd=tmp_path, data_dir=data_dir)
    assert_no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("  ✗ ")]
    assert len(failed) == 1
    assert "Data dir" in failed[0] and str(data_dir) in failed[0]
    assert "cannot write to the data dir" in failed[0] or "not a folder" in failed[0]
    assert "Data dir failed" in result.stdout.splitlines()[-1]

    result = doctor("--json", cwd=tmp_path, data_dir=data_dir)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    status = {check["name"]: check["status"] for check in report["checks"]}
    assert status["data_dir"] == "fail" and status["sqlite"] == "warn"


def test_a_broken_numpy_fails_the_doctor_with_the_explanation(tmp_path):
    fake = tmp_path / "fake" / "numpy"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('raise ImportError("libstdc++.so.6: cannot open shared object file")\n')
    env = clean_env(PYTHONIOENCODING="utf-8", PYTHONPATH=str(tmp_path / "fake"))
    result = doctor("--json", cwd=tmp_path, env=env)
    assert_no_traceback(result)
    assert result.returncode == 1, result.stdout + result.stderr
    numpy_check = json.loads(result.stdout)["checks"][1]
    assert numpy_check["status"] == "fail" and "libstdc++" in numpy_check["detail"]
    assert "nix develop .#venv" in numpy_check["hint"]


def test_a_terminal_without_unicode_gets_ascii_marks(tmp_path):
    result = doctor(cwd=tmp_path, env=clean_env(PYTHONIOENCODING="ascii"))
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  + Python" in result.stdout and "  ! Model server" in result.stdout
    assert "✓" not in result.stdout


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--port", "abc"], "port must be a number"),
        (["--port", "70000"], "between 1 and 65535"),
        (["--bogus"], "--bogus"),
        (["--config", "missing.toml"], "does not exist"),
        (["--host", " "], "host"),
    ],
)
def test_a_bad_option_or_setting_is_one_line_and_exit_2(tmp_path, args, mentions):
    result = subprocess.run(
        [sys.executable, "-m", "pipulate", "doctor", *args],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=scaled(30),
    )
    assert_one_line_error(result, 2, mentions)
    assert result.stdout == ""


def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "pipulate.toml").write_text("port = 'five'\n")
    result = subprocess.run(
        [sys.executable, "-m", "pipulate", "doctor", "--json"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=scaled(30),
    )
    assert_one_line_error(result, 2, "port must be a whole number")


def test_doctor_reads_the_config_file_as_serve_does(tmp_path):
    port = free_port()
    (tmp_path / "pipulate.toml").write_text(
        f'app_name = "Darwinix"\nport = {port}\ndata_dir = "brand-data"\nmodel = "qwen2.5"\n'
        f'llm_url = "http://127.0.0.1:{free_port()}"\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipulate", "doctor"],
        cwd=tmp_path, env=clean_env(PYTHONIOENCODING="utf-8"), capture_output=True, text=True,
        encoding="utf-8", timeout=scaled(60),
    )
    assert_no_traceback(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Darwinix doctor")
    assert f"port {port} on 127.0.0.1 is free" in result.stdout
    assert str(tmp_path / "brand-data") in result.stdout and (tmp_path / "brand-data").is_dir()
    assert "ollama pull qwen2.5" in result.stdout


def test_doctor_is_listed_in_the_help(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pipulate", "--help"], cwd=tmp_path, env=clean_env(),
        capture_output=True, text=True, timeout=scaled(30),
    )
    assert result.returncode == 0 and "doctor" in result.stdout
