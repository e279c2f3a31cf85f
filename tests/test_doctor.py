"""`pipulate doctor`'s checks, one by one, against real things: this Python, a child Python with a
broken numpy, SQLite in a temporary folder, real sockets, the test Ollama server and llama.cpp's
OpenAI-compatible server. Only WSL detection and the `nix --version` runner are injected."""

from __future__ import annotations

import os
import socket
import sqlite3
import sys
import time
from pathlib import Path

import numpy
import pytest

from pipulate import Settings
from pipulate._doctor import (
    FAIL,
    OK,
    WARN,
    all_ok,
    check_data,
    check_nix,
    check_numpy,
    check_port,
    check_python,
    check_sqlite,
    run_checks,
)
from pipulate._doctor_llm import check_model_server, same_model, windows_host_ip
from tests.support.llm import HOW_TO_GET_LLAMA, llama_cpp_installed
from tests.support.ollama_server import VERSION, start_ollama_server
from tests.support.requirements import require
from tests.support.server import free_port
from tests.support.timing import scaled

NAMES = ["python", "numpy", "data_dir", "sqlite", "port", "model_server", "nix"]


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def fake_numpy(root: Path, body: str) -> dict[str, str]:
    """An environment whose PYTHONPATH puts a numpy package with this __init__.py first."""
    package = root / "fake" / "numpy"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    return {**os.environ, "PYTHONPATH": str(root / "fake")}


# --- Python, numpy ------------------------------------------------------------------------------


def test_this_python_is_ok():
    check = check_python()
    assert check.status == OK and check.required
    assert sys.executable in check.detail


def test_an_old_python_fails_with_what_to_do():
    check = check_python((3, 10, 12, "final", 0), "/usr/bin/python3.10")
    assert check.status == FAIL
    assert "3.10.12" in check.detail and "3.11" in check.detail
    assert "3.11" in check.hint


def test_numpy_present_is_ok():
    check = check_numpy()
    assert check.status == OK, check
    assert numpy.__version__ in check.detail


def test_numpy_missing_its_libraries_fails_with_the_nix_explanation(tmp_path):
    env = fake_numpy(tmp_path, 'raise ImportError("libstdc++.so.6: cannot open shared object file")\n')
    check = check_numpy(env=env)
    assert check.status == FAIL and check.required
    assert "libstdc++.so.6: cannot open shared object file" in check.detail
    for words in ("libstdc++", "zlib", "Nix", "`nix develop`", "`nix develop .#venv`", "distribution's libstdc++"):
        assert words in check.hint, check.hint


def test_numpy_missing_zlib_gets_the_same_explanation(tmp_path):
    env = fake_numpy(tmp_path, 'raise ImportError("libz.so.1: cannot open shared object file: No such file")\n')
    check = check_numpy(env=env)
    assert check.status == FAIL
    assert "nix develop .#venv" in check.hint


def test_numpy_crashing_python_does_not_take_doctor_down(tmp_path):
    env = fake_numpy(tmp_path, "import os\nos.abort()\n")
    check = check_numpy(env=env)
    assert check.status == FAIL
    assert "crashed" in check.detail and "SIGABRT" in check.detail


def test_numpy_hanging_is_cut_off_by_the_timeout(tmp_path):
    env = fake_numpy(tmp_path, "import time\ntime.sleep(30)\n")
    started = time.monotonic()
    check = check_numpy(env=env, timeout=1)
    assert time.monotonic() - started < 1 + scaled(4)  # the 1 s timeout, and not the 30 s hang
    assert check.status == FAIL and "did not finish within 1 s" in check.detail


# --- data dir, SQLite -------------------------------------------------------------------------


def test_a_writable_data_dir_is_created_and_ok(tmp_path):
    check = check_data(tmp_path / "new" / "data")
    assert check.status == OK and check.required
    assert (tmp_path / "new" / "data").is_dir()


def test_a_data_dir_under_a_regular_file_fails(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    check = check_data(tmp_path / "file" / "data")
    assert check.status == FAIL
    assert "data dir" in check.detail and "--data-dir" in check.hint


def test_sqlite_reports_versions_and_wal_works_without_leaving_files(tmp_path):
    check = check_sqlite(tmp_path)
    assert check.status == OK, check
    assert sqlite3.sqlite_version in check.detail and "WAL works" in check.detail
    import apsw  # a dependency (of apswutils): always there

    assert f"apsw: {apsw.sqlite_lib_version()}" in check.detail
    assert list(tmp_path.iterdir()) == []


def test_sqlite_fails_where_no_database_can_be_made(tmp_path):
    check = check_sqlite(tmp_path / "missing")  # the temporary database cannot be created there
    assert check.status == FAIL and check.required
    assert "WAL does not work" in check.detail and "--data-dir" in check.hint


def test_sqlite_is_not_tested_when_the_data_dir_is_unusable(tmp_path):
    check = check_sqlite(tmp_path, data_dir_usable=False)
    assert check.status == WARN and "not tested" in check.detail


# --- port -------------------------------------------------------------------------------------


def test_a_free_port_is_ok():
    port = free_port()
    check = check_port("127.0.0.1", port)
    assert check.status == OK and str(port) in check.detail


def test_a_port_taken_by_another_program_warns():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        check = check_port("127.0.0.1", port)
    assert check.status == WARN and not check.required
    assert "another program" in check.detail and "--port" in check.hint


def test_a_port_taken_by_a_running_pipulate_says_so(server):
    check = check_port("127.0.0.1", server.port, "Pipulate")
    assert check.status == WARN
    assert "Pipulate is already running" in check.detail
    assert server.url in check.hint


# --- model server -----------------------------------------------------------------------------


def test_no_model_server_warns_quickly_with_how_to_start_ollama():
    url = closed_url()
    started = time.monotonic()
    check = check_model_server(url, "llama3.2")
    assert time.monotonic() - started < scaled(3)
    assert check.status == WARN and not check.required
    assert url in check.detail
    assert "`ollama serve`" in check.hint and "`ollama pull llama3.2`" in check.hint
    assert "nix run .#ollama" in check.hint
    # Installs this project (its checkout, or its source URL), never PyPI's unrelated "pipulate".
    from pipulate._install import install_command

    assert install_command("local-llm") in check.hint and "--model-file" in check.hint
    assert "pipulate[" not in check.hint
    assert "WSL" not in check.hint


def test_no_model_server_with_a_model_file_does_not_offer_the_embedded_model_again(tmp_path):
    check = check_model_server(closed_url(), "llama3.2", tmp_path / "missing.gguf")
    assert check.status == WARN
    assert "--model-file FILE.gguf" not in check.hint
    assert "missing.gguf" in check.hint


def test_on_wsl_no_model_server_explains_where_windows_is(tmp_path):
    resolv_conf = tmp_path / "resolv.conf"
    resolv_conf.write_text("# generated by WSL\nnameserver 172.29.16.1\n")
    check = check_model_server(closed_url(), "llama3.2", wsl=True, resolv_conf=resolv_conf)
    assert check.status == WARN
    assert "WSL" in check.hint and "172.29.16.1" in check.hint
    assert "--llm-url http://172.29.16.1:11434" in check.hint and "OLLAMA_HOST" in check.hint
    assert "mirrored" in check.hint
    assert "`ollama serve`" in check.hint  # the ordinary advice stays


def test_windows_host_ip_without_a_resolv_conf(tmp_path):
    assert windows_host_ip(tmp_path / "none") is None
    check = check_model_server(closed_url(), "m", wsl=True, resolv_conf=tmp_path / "none")
    assert "WSL" in check.hint and "WINDOWS-IP" in check.hint


@pytest.mark.parametrize(
    ("wanted", "name", "same"),
    [
        ("llama3.2", "llama3.2:latest", True),
        ("llama3.2:latest", "llama3.2", True),
        ("llama3.2", "llama3.2", True),
        ("llama3.2", "llama3.2:1b", False),
        ("llama3.2:1b", "llama3.2:1b", True),
        ("llama3", "llama3.2:latest", False),
        ("registry.example:5000/library/qwen", "registry.example:5000/library/qwen:latest", True),
    ],
)
def test_ollama_names_match_with_or_without_latest(wanted, name, same):
    assert same_model(wanted, name) is same


@pytest.fixture(scope="module")
def ollama(model_file, tmp_path_factory):
    """The test Ollama server (Ollama's native API; it has "smollm2:latest")."""
    require(llama_cpp_installed(), "llama-cpp-python[server]", HOW_TO_GET_LLAMA)
    server = start_ollama_server(model_file, tmp_path_factory.mktemp("ollama"), "--max-tokens", "4")
    yield server
    server.stop()


@pytest.mark.parametrize("model", ["smollm2", "smollm2:latest"])
def test_ollama_with_the_model_is_ok(ollama, model):
    check = check_model_server(ollama.url, model)
    assert check.status == OK, check
    assert f"Ollama {VERSION}" in check.detail and ollama.url in check.detail and model in check.detail


def test_ollama_without_the_model_says_how_to_pull_it(ollama):
    check = check_model_server(ollama.url, "llama3.2")
    assert check.status == WARN
    assert f"Ollama {VERSION}" in check.detail and "does not have the model llama3.2" in check.detail
    assert "`ollama pull llama3.2`" in check.hint and "smollm2:latest" in check.hint


def test_an_openai_compatible_server_is_recognised(llama_server):
    check = check_model_server(llama_server.url, "smollm2")
    assert check.status == OK, check
    assert "OpenAI-compatible server" in check.detail and llama_server.url in check.detail


def test_an_openai_compatible_server_without_the_model(llama_server):
    check = check_model_server(llama_server.url, "llama3.2")
    assert check.status == WARN
    assert "OpenAI-compatible server" in check.detail and "llama3.2" in check.detail
    assert "--model" in check.hint and "smollm2" in check.hint
    assert "ollama pull" not in check.hint  # not Ollama: pulling would not help


def test_a_server_that_is_neither_warns(server):
    check = check_model_server(server.url, "llama3.2")  # the Pipulate app itself
    assert check.status == WARN
    assert "neither" in check.detail and "--llm-url" in check.hint


# --- Nix --------------------------------------------------------------------------------------


def runner(output: str | None):
    calls = []

    def run(command: list[str]) -> str | None:
        calls.append(command)
        return output

    run.calls = calls
    return run


def test_a_new_enough_nix_is_ok():
    run = runner("nix (Nix) 2.24.1")
    check = check_nix(run)
    assert check.status == OK and "2.24.1" in check.detail
    assert run.calls == [["nix", "--version"]]


@pytest.mark.parametrize("output", ["nix (Nix) 2.8.0", "nix (Nix) 2.17.9"])
def test_an_old_nix_warns_with_how_to_upgrade(output):
    check = check_nix(runner(output))
    assert check.status == WARN and not check.required
    assert output.split()[-1] in check.detail and "2.18" in check.detail
    assert "upgrade-nix" in check.hint


def test_lix_reads_as_new_enough():
    assert check_nix(runner("nix (Lix, like Nix) 2.91.1")).status == OK


def test_no_nix_warns_that_pip_users_do_not_need_it():
    check = check_nix(runner(None))
    assert check.status == WARN and "not installed" in check.detail and "pip" in check.detail


def test_an_unreadable_nix_version_warns():
    check = check_nix(runner("something odd"))
    assert check.status == WARN and "cannot read" in check.detail


# --- all together -----------------------------------------------------------------------------


def test_run_checks_in_order_and_required_ones_decide(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", port=free_port(), llm_url=closed_url(), plugin_dirs=())
    checks = run_checks(settings, wsl=True, run_command=runner("nix (Nix) 2.8.0"))
    assert [check.name for check in checks] == NAMES
    status = {check.name: check.status for check in checks}
    assert status == {
        "python": OK, "numpy": OK, "data_dir": OK, "sqlite": OK, "port": OK, "model_server": WARN, "nix": WARN,
    }
    assert [check.name for check in checks if check.required] == ["python", "numpy", "data_dir", "sqlite"]
    assert "WSL" in checks[5].hint
    assert all_ok(checks)


def test_a_failed_required_check_makes_it_not_ok(tmp_path):
    (tmp_path / "file").write_text("")
    settings = Settings(data_dir=tmp_path / "file" / "data", port=free_port(), llm_url=closed_url(), plugin_dirs=())
    checks = run_checks(settings, wsl=False, run_command=runner("nix (Nix) 2.24.1"))
    status = {check.name: check.status for check in checks}
    assert status["data_dir"] == FAIL and status["sqlite"] == WARN
    assert not all_ok(checks)


def test_a_broken_numpy_in_the_checked_python_makes_it_not_ok(tmp_path):
    env = fake_numpy(tmp_path, 'raise ImportError("libstdc++.so.6: cannot open shared object file")\n')
    settings = Settings(data_dir=tmp_path / "data", port=free_port(), llm_url=closed_url(), plugin_dirs=())
    checks = run_checks(settings, wsl=False, run_command=runner(None), env=env)
    numpy_check = next(check for check in checks if check.name == "numpy")
    assert numpy_check.status == FAIL and "nix develop" in numpy_check.hint
    assert not all_ok(checks)
