"""`pipulate serve` as the user runs it: a subprocess, its exit code, its output.

A mistake the user can make (a port in use, a bad setting, a data dir that cannot be written)
ends the command with one readable line on stderr and no traceback.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.cli import assert_one_line_error, clean_env, run_cli, unprivileged
from tests.support.requirements import require
from tests.support.server import free_port, start_server
from tests.support.timing import poll, scaled

CONSOLE_SCRIPT = Path(sys.executable).parent / ("pipulate.exe" if os.name == "nt" else "pipulate")


class Launched:
    """A `serve` subprocess started here (when start_server's own set-up would hide what is tested)."""

    def __init__(self, command: list[str], cwd: Path, env: dict | None = None) -> None:
        self.out_path, self.err_path = cwd / "stdout.txt", cwd / "stderr.txt"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env or clean_env(), stdout=out, stderr=err, start_new_session=True,
            )

    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def wait_ready(self, url: str, timeout: float = 30) -> httpx.Response:
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"exited with {self.process.returncode}:\n{self.stdout()}\n{self.stderr()}")
            try:
                response = httpx.get(url, timeout=scaled(1), trust_env=False)
                if response.status_code == 200:
                    return response
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        pytest.fail(f"no answer from {url} within {scaled(timeout):g}s:\n{self.stdout()}\n{self.stderr()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=scaled(10))
            except ProcessLookupError:
                pass
        return self.process.returncode


def serve_command(*args: str, console_script: bool = False) -> list[str]:
    if console_script:
        return [str(CONSOLE_SCRIPT), "serve", *args]
    return [sys.executable, "-m", "pipulate", "serve", *args]


# --- start-up problems: one line, non-zero -------------------------------------------------------


def test_port_already_taken(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    line = assert_one_line_error(result, code=1, mentions=str(port))
    assert "in use" in line


def test_data_dir_that_cannot_be_written(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    port = str(free_port())
    # A data dir below a regular file cannot be created.
    line = assert_one_line_error(
        run_cli("serve", "--port", port, "--data-dir", str(a_file / "data"), cwd=tmp_path), code=1
    )
    assert "data dir" in line and "a-file" in line
    # The data dir is a regular file.
    line = assert_one_line_error(run_cli("serve", "--port", port, "--data-dir", str(a_file), cwd=tmp_path), code=1)
    assert "not a folder" in line
    # Through PIPULATE_DATA_DIR as well.
    result = run_cli("serve", "--port", port, cwd=tmp_path, env=clean_env(PIPULATE_DATA_DIR=str(a_file / "x")))
    assert_one_line_error(result, code=1, mentions="data dir")


def test_a_data_dir_without_permissions(tmp_path):
    """Root ignores permission bits; unprivileged() makes them apply to root too, so this runs
    (and asserts) as any user."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    port = str(free_port())
    wrapper = unprivileged()
    try:
        probe = subprocess.run([*wrapper, sys.executable, "-c", f"open({str(locked / 'x')!r}, 'w')"],
                               capture_output=True, text=True, timeout=scaled(20))
        assert probe.returncode != 0 and "Permission denied" in probe.stderr, probe  # the bits do apply
        result = run_cli("serve", "--port", port, "--data-dir", str(locked), cwd=tmp_path, wrapper=wrapper)
        assert_one_line_error(result, code=1, mentions="cannot write")
        result = run_cli("serve", "--port", port, "--data-dir", str(locked / "sub"), cwd=tmp_path, wrapper=wrapper)
        assert_one_line_error(result, code=1, mentions="data dir")
    finally:
        locked.chmod(0o755)
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("port", ["abc", "70000", "0", "-5", "5001.5", ""])
def test_bad_port_option(tmp_path, port):
    result = run_cli("serve", "--port", port, "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert_one_line_error(result, code=2, mentions="port")
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("toml", "mentions"),
    [
        ("port = [", "not valid TOML"),
        ("app_name = 'x'\ncolour = 'blue'\n", "unknown setting 'colour'"),
        ("port = 'x'\n", "port must be a whole number"),
        ("port = true\n", "port must be a whole number"),
        ("live = 'yes'\n", "live must be true or false"),
        ("app_name = 5\n", "app_name must be a string"),
        ("plugin_dirs = 'plugins'\n", "plugin_dirs must be a list"),
        ("port = 70000\n", "port must be between"),
        ("accent_color = 'red'\n", "accent_color"),
        ("database_file = '../escape.db'\n", "database_file"),
        ("app_name = '" + "n" * 61 + "'\n", "app_name"),
    ],
)
def test_bad_config_file_in_the_working_folder(tmp_path, toml, mentions):
    (tmp_path / "pipulate.toml").write_text(toml)
    result = run_cli("serve", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert_one_line_error(result, code=2, mentions=mentions)


def test_config_file_that_cannot_be_read(tmp_path):
    assert_one_line_error(run_cli("serve", "--config", "missing.toml", cwd=tmp_path), code=2, mentions="does not exist")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run_cli("serve", "--config", "binary.toml", cwd=tmp_path), code=2, mentions="binary.toml")
    result = run_cli("serve", cwd=tmp_path, env=clean_env(PIPULATE_CONFIG=str(tmp_path / "nowhere.toml")))
    assert_one_line_error(result, code=2, mentions="does not exist")


@pytest.mark.parametrize(
    ("variable", "value", "mentions"),
    [
        ("PIPULATE_PORT", "abc", "PIPULATE_PORT must be a whole number"),
        ("PIPULATE_PORT", "", "PIPULATE_PORT"),
        ("PIPULATE_PORT", "99999", "port must be between"),
        ("PIPULATE_LIVE", "maybe", "PIPULATE_LIVE"),
        ("PIPULATE_ACCENT_COLOR", "blue", "accent_color"),
    ],
)
def test_bad_environment_variable(tmp_path, variable, value, mentions):
    result = run_cli("serve", "--data-dir", str(tmp_path / "data"), cwd=tmp_path, env=clean_env(**{variable: value}))
    assert_one_line_error(result, code=2, mentions=mentions)


def test_unknown_option_and_missing_command(tmp_path):
    assert_one_line_error(run_cli("serve", "--bogus", cwd=tmp_path), code=2, mentions="--bogus")
    assert_one_line_error(run_cli("frobnicate", cwd=tmp_path), code=2, mentions="frobnicate")
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2 and "serve" in result.stdout and "Traceback" not in result.stderr


# --- help ----------------------------------------------------------------------------------------


def test_help_and_version(tmp_path):
    require(CONSOLE_SCRIPT.exists(), "the pipulate console script", "pip install -e .")
    for command in ([sys.executable, "-m", "pipulate"], [str(CONSOLE_SCRIPT)]):
        result = subprocess.run([*command, "--help"], cwd=tmp_path, env=clean_env(),
                                capture_output=True, text=True, timeout=scaled(20))
        assert result.returncode == 0 and "serve" in result.stdout and result.stderr == "", result
        result = subprocess.run([*command, "serve", "--help"], cwd=tmp_path, env=clean_env(),
                                capture_output=True, text=True, timeout=scaled(20))
        assert result.returncode == 0 and result.stderr == "", result
        for option in ("--host", "--port", "--data-dir", "--config", "--live", "--open"):
            assert option in result.stdout
        result = subprocess.run([*command, "--version"], cwd=tmp_path, env=clean_env(),
                                capture_output=True, text=True, timeout=scaled(20))
        assert result.returncode == 0 and result.stdout.startswith("pipulate ")


def test_the_readmes_usage_line_and_list_name_every_serve_option():
    import contextlib
    import io

    from pipulate._cli import build_parser

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    options = set(re.findall(r"--[a-z][a-z-]+", shown.getvalue().split("options:")[0]))
    assert {"--host", "--model", "--llm-url", "--model-file", "--live"} <= options
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## `pipulate serve`"):readme.index("## Branding")]
    usage = section[section.index("pipulate serve ["):section.index("python -m pipulate serve")]
    assert set(re.findall(r"--[a-z][a-z-]+", usage)) == options
    listed = section[section.index("python -m pipulate serve"):]
    assert {option for option in options if f"`{option}`" not in listed} == set()


# --- start-ups that work -------------------------------------------------------------------------


@pytest.mark.parametrize("console_script", [False, True], ids=["python -m pipulate", "console script"])
def test_serve_starts_and_stops_cleanly(tmp_path, console_script):
    if console_script:
        require(CONSOLE_SCRIPT.exists(), "the pipulate console script", "pip install -e .")
    port = free_port()
    launched = Launched(serve_command("--port", str(port), console_script=console_script), cwd=tmp_path)
    try:
        page = launched.wait_ready(f"http://127.0.0.1:{port}/")
        assert re.search(r"<title>[^<]* · Pipulate</title>", page.text), page.text[:500]
        # The default data dir is ./data, the file named after the app.
        assert (tmp_path / "data" / "pipulate.db").is_file()
        assert f"http://127.0.0.1:{port}" in launched.stdout()
    finally:
        # Ctrl+C (SIGINT) ends it with 0; uvicorn re-raises SIGTERM after a clean shutdown (-15).
        code = launched.stop(signal.SIGINT if not console_script else signal.SIGTERM)
    assert code in ((0,) if not console_script else (0, -signal.SIGTERM)), (code, launched.stderr())
    assert "Traceback" not in launched.stdout() + launched.stderr()
    assert launched.stderr().strip() == "", launched.stderr()


def test_nested_data_dir_is_created_with_its_parents(tmp_path):
    port = free_port()
    launched = Launched(serve_command("--port", str(port), "--data-dir", "nested/new/dirs"), cwd=tmp_path)
    try:
        launched.wait_ready(f"http://127.0.0.1:{port}/")
        data_dir = tmp_path / "nested" / "new" / "dirs"
        assert (data_dir / "pipulate.db").is_file()
        assert sorted(p.name for p in data_dir.glob("*.db")) == ["pipulate.db"]
        assert not list(data_dir.glob(".write-test-*"))
    finally:
        launched.stop()


def test_app_name_from_the_config_file_names_the_database_and_the_page(tmp_path):
    (tmp_path / "pipulate.toml").write_text('app_name = "Acme Tools"\n')
    server = start_server(tmp_path / "data", cwd=tmp_path)
    try:
        assert (tmp_path / "data" / "acme-tools.db").is_file()
        assert not (tmp_path / "data" / "pipulate.db").exists()
        with server.client() as client:
            page = client.get("/").text
        assert re.search(r"<title>[^<]* · Acme Tools</title>", page), page[:500]
        assert '<a href="/" class="brand">Acme Tools</a>' in page
        assert "Pipulate" not in page.split("<body", 1)[1]
        assert "Acme Tools is running" in server.log()
    finally:
        server.stop()


def test_another_host_warns_that_there_is_no_login(tmp_path):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.2", 0))
            port = probe.getsockname()[1]
    except OSError:
        port = None
    require(port is not None, "the loopback address 127.0.0.2", "(Linux routes 127.0.0.0/8 to lo by default)")
    launched = Launched(serve_command("--host", "127.0.0.2", "--port", str(port)), cwd=tmp_path)
    try:
        page = launched.wait_ready(f"http://127.0.0.2:{port}/")
        assert "Todos" in page.text
        warning = [line for line in launched.stderr().splitlines() if "warning" in line]
        assert len(warning) == 1 and "127.0.0.2" in warning[0] and "no login" in warning[0], launched.stderr()
        # The address it binds is accepted as a Host, a foreign name still is not.
        assert httpx.get(f"http://127.0.0.2:{port}/", headers={"Host": "evil.example"}, trust_env=False).status_code == 400
        # Only that address is bound.
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=scaled(2), trust_env=False)
    finally:
        launched.stop()
    assert "Traceback" not in launched.stderr()


def _fake_openers(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A PATH whose browser openers only write their argument to a file (xdg-open on Linux; the
    same fake under the names used on WSL and macOS)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    for name in ("xdg-open", "wslview", "open"):
        fake = bin_dir / name
        fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n')
        fake.chmod(0o755)
    return clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"), opened


def _wait_for_line(path: Path, timeout: float) -> None:
    """Until the fake opener has written a whole line (it is called once the app answers)."""
    poll(lambda: path.exists() and path.read_text().endswith("\n"), timeout, f"a line in {path.name}")


def test_open_calls_the_browser_opener_with_the_url(tmp_path):
    env, opened = _fake_openers(tmp_path)
    port = free_port()
    launched = Launched(serve_command("--port", str(port), "--open"), cwd=tmp_path, env=env)
    try:
        launched.wait_ready(f"http://127.0.0.1:{port}/")
        _wait_for_line(opened, 15)
        assert opened.read_text().splitlines() == [f"http://127.0.0.1:{port}"]
    finally:
        launched.stop()


def test_open_does_not_wait_for_a_proxy(tmp_path):
    env, opened = _fake_openers(tmp_path)
    dead_proxy = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = {**env, "http_proxy": dead_proxy, "HTTP_PROXY": dead_proxy, "no_proxy": "", "NO_PROXY": ""}
    port = free_port()
    launched = Launched(serve_command("--port", str(port), "--open"), cwd=tmp_path, env=env)
    try:
        launched.wait_ready(f"http://127.0.0.1:{port}/")
        _wait_for_line(opened, 5)  # not held up by the dead proxy
        assert opened.read_text().splitlines() == [f"http://127.0.0.1:{port}"]
    finally:
        launched.stop()


# --- problems the core finds only when it opens the database --------------------------------------


def test_a_database_file_that_cannot_be_opened_is_one_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pipulate.db").write_bytes(b"this is not an SQLite file" * 200)
    result = run_cli("serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert_one_line_error(result, code=1, mentions="cannot start")


def test_live_mode_start_up_error_is_one_line_and_exits(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "pipulate.db").write_bytes(b"this is not an SQLite file" * 200)
    port = free_port()
    launched = Launched(serve_command("--live", "--port", str(port), "--data-dir", "data"), cwd=tmp_path)
    try:
        launched.process.wait(timeout=scaled(6))  # a normal start-up takes well under a second
    except subprocess.TimeoutExpired:
        pass
    finally:
        launched.stop(signal.SIGKILL)
    result = subprocess.CompletedProcess([], launched.process.returncode, launched.stdout(), launched.stderr())
    assert launched.process.returncode not in (None, 0, -signal.SIGKILL), launched.stderr()
    assert_one_line_error(result, mentions="cannot start")


def test_a_database_that_cannot_be_migrated_stops_the_start_in_one_line_and_is_untouched(tmp_path):
    """`todos` is a view in this file (a user's experiment): serve says so and changes nothing."""
    import sqlite3
    from contextlib import closing

    database = tmp_path / "data" / "pipulate.db"
    database.parent.mkdir()
    with closing(sqlite3.connect(database)) as db:
        db.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO profiles VALUES (1, 'Mine')")
        db.execute("CREATE VIEW todos AS SELECT 1 AS id")
        db.commit()
    line = assert_one_line_error(
        run_cli("serve", "--port", str(free_port()), "--data-dir", str(tmp_path / "data"), cwd=tmp_path),
        code=1,
        mentions="'todos' exists in the database but is a view",
    )
    assert "nothing was changed" in line and str(database) in line
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("SELECT * FROM profiles").fetchall() == [(1, "Mine")]
        # Only what SQLite keeps for itself may appear (query-planner statistics), no table of ours.
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        assert {name for name in names if not name.startswith("sqlite_stat")} == {"profiles", "todos"}
        assert db.execute("SELECT sql FROM sqlite_master WHERE name = 'profiles'").fetchall() == [
            ("CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT)",)
        ]


@pytest.mark.parametrize(("toml", "reported"), [("", "normal"), ('synchronous = "full"\n', "full")])
def test_the_synchronous_setting_reaches_the_apps_connection(tmp_path, toml, reported):
    """PRAGMA values are per connection, so only the app can tell: the start line reports the
    level read back from the app's own connection."""
    (tmp_path / "pipulate.toml").write_text(toml)
    server = start_server(tmp_path / "data", cwd=tmp_path)
    try:
        line = next(line for line in server.log().splitlines() if " is running on " in line)
        assert f"synchronous: {reported})" in line, line
    finally:
        server.stop()
