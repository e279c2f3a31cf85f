"""`pipulate doctor`: can this machine run the app? Each check says ok / warn / fail, what it found
in one line and, when not ok, what to do.

Python, numpy, the data dir, SQLite, the plugins and the model file are required (a failure means
the app cannot run: `serve` refuses to start for each of them too); the port, the model server and
Nix at most warn. The model server's check is in `_doctor_llm`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from ._cli.serve import check_data_dir, check_model_file, check_port_free
from ._config import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_PYTHON = (3, 11)
MIN_NIX = (2, 18)
NUMPY_TIMEOUT = 30.0

LOADER_HINT = (
    "On Nix/NixOS Linux, pip's numpy wheels need libstdc++ and zlib on the loader path, which Nix "
    "does not put there. Use `nix develop` (numpy from Nix) or `nix develop .#venv` (a venv with "
    "those libraries provided). Elsewhere, install your distribution's libstdc++ and zlib "
    "(Debian/Ubuntu: apt-get install libstdc++6 zlib1g)."
)
_LOADER_SIGNS = ("libstdc++", "libz.so", "libgcc_s", "cannot open shared object file")

# A command runner: the command's output, or None when the program is not installed.
CommandRunner = Callable[[list[str]], "str | None"]


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str  # what was found, one line
    hint: str = ""  # what to do (when not ok)
    required: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["required"]
        return data


def all_ok(checks: list[Check]) -> bool:
    """False when a required check failed (the others at most warn)."""
    return not any(check.status == FAIL and check.required for check in checks)


def run_checks(
    settings: Settings,
    *,
    wsl: bool | None = None,
    run_command: CommandRunner | None = None,
    python: str | None = None,
    env: dict[str, str] | None = None,
) -> list[Check]:
    """All the checks, in order. `wsl`, `run_command`, `python` and `env` are for tests."""
    from ._cli.browser import is_wsl
    from ._doctor_llm import check_model_server
    from ._llm.connect import resolve_llm_url

    wsl = is_wsl() if wsl is None else wsl
    checks = [
        _guarded("python", True, check_python),
        _guarded("numpy", True, lambda: check_numpy(python or sys.executable, env)),
    ]
    data_dir = _guarded("data_dir", True, lambda: check_data(settings.data_dir))
    checks += [
        data_dir,
        _guarded("sqlite", True, lambda: check_sqlite(settings.data_dir, data_dir.status == OK)),
        _guarded("plugins", True, lambda: check_plugins(settings, python or sys.executable, env, checks[1].status == OK)),
        _guarded("model_file", True, lambda: check_model(settings.model_file)),
        _guarded("port", False, lambda: check_port(settings.host, settings.port, settings.app_name)),
        _guarded(
            "model_server",
            False,
            lambda: check_model_server(
                resolve_llm_url(settings.llm_url), settings.model, settings.model_file, wsl=wsl
            ),
        ),
        _guarded("nix", False, lambda: check_nix(run_command or run_quietly)),
    ]
    return checks


def _guarded(name: str, required: bool, check: Callable[[], Check]) -> Check:
    """A check that itself breaks becomes a finding, not a traceback."""
    try:
        return check()
    except Exception as error:  # noqa: BLE001 - doctor must always finish its report
        status = FAIL if required else WARN
        return Check(name, status, f"the check itself failed: {type(error).__name__}: {error}", required=required)


# --- required --------------------------------------------------------------------------------


def check_python(version_info=None, executable: str | None = None) -> Check:
    version_info = version_info or sys.version_info
    executable = executable or sys.executable
    version = ".".join(str(part) for part in tuple(version_info)[:3])
    if tuple(version_info)[:2] >= MIN_PYTHON:
        return Check("python", OK, f"{version} ({executable})", required=True)
    return Check(
        "python",
        FAIL,
        f"Python {version} is too old: Pipulate needs {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer",
        "Install Python 3.11 or newer (or use `nix develop`), then make the venv again with it.",
        required=True,
    )


def check_numpy(python: str | None = None, env: dict[str, str] | None = None, timeout: float = NUMPY_TIMEOUT) -> Check:
    """Import numpy in a child process: a loader error or a crash there cannot take doctor down."""
    command = [python or sys.executable, "-c", "import numpy; print(numpy.__version__)"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=timeout, env=env,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return _numpy_fail(f"`import numpy` did not finish within {timeout:g} s", "")
    except OSError as error:
        return _numpy_fail(f"cannot run {command[0]}: {error.strerror or error}", "")
    if result.returncode == 0:
        return Check("numpy", OK, f"{result.stdout.strip()} imports", required=True)
    output = f"{result.stdout}\n{result.stderr}"
    if result.returncode < 0:
        detail = f"importing numpy crashed Python ({_signal_name(-result.returncode)})"
    else:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        detail = f"import numpy failed: {lines[-1] if lines else f'exit code {result.returncode}'}"
    return _numpy_fail(detail, output)


def _numpy_fail(detail: str, output: str) -> Check:
    if any(sign in output for sign in _LOADER_SIGNS):
        hint = LOADER_HINT
    elif "No module named 'numpy'" in output:
        hint = "Install Pipulate's dependencies into this Python: pip install -e . (or pip install numpy)."
    else:
        hint = "Reinstall it: pip install --force-reinstall numpy."
        if _on_nix():
            hint += " " + LOADER_HINT
    return Check("numpy", FAIL, detail, hint, required=True)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _on_nix() -> bool:
    return Path("/etc/NIXOS").exists() or sys.prefix.startswith("/nix/store") or "IN_NIX_SHELL" in os.environ


def check_data(data_dir: Path) -> Check:
    problem = check_data_dir(data_dir)  # creates the folder, as serve does
    if problem is None:
        return Check("data_dir", OK, f"{data_dir.resolve()} is writable", required=True)
    return Check(
        "data_dir", FAIL, problem, "Choose a folder you can write to with --data-dir (or data_dir in pipulate.toml).",
        required=True,
    )


def check_sqlite(data_dir: Path, data_dir_usable: bool = True) -> Check:
    """SQLite's versions, and that WAL (which the app turns on) works in the data dir."""
    versions = sqlite3.sqlite_version
    try:
        import apsw
    except ImportError:
        apsw = None
    if apsw is not None:
        versions += f" (apsw: {apsw.sqlite_lib_version()})"
    if not data_dir_usable:
        return Check("sqlite", WARN, f"{versions}; WAL not tested: the data dir is not usable", "Fix the data dir first.",
                     required=True)
    try:
        mode = _journal_mode_after_wal(Path(data_dir), apsw)
    except Exception as error:  # sqlite3.Error, apsw.Error, OSError
        mode = f"{type(error).__name__}: {error}"
    if mode == "wal":
        return Check("sqlite", OK, f"{versions}; WAL works in the data dir", required=True)
    return Check(
        "sqlite",
        FAIL,
        f"{versions}; WAL does not work in {data_dir}: {mode}",
        "WAL needs a local disk with shared memory (not a network share, nor Windows' /mnt/c under WSL): "
        "choose another --data-dir, e.g. ~/pipulate-data.",
        required=True,
    )


def _journal_mode_after_wal(data_dir: Path, apsw) -> str:
    """Turn WAL on in a new database in the data dir and write to it; the mode SQLite reports."""
    descriptor, name = tempfile.mkstemp(dir=data_dir, prefix=".doctor-wal-", suffix=".db")
    os.close(descriptor)
    try:
        if apsw is not None:  # what the app uses (through fastlite)
            connection = apsw.Connection(name)
            try:
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchall()[0][0]
                with connection:
                    connection.execute("CREATE TABLE probe (x)")
                    connection.execute("INSERT INTO probe VALUES (1)")
            finally:
                connection.close()
        else:
            connection = sqlite3.connect(name)
            try:
                mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                with connection:
                    connection.execute("CREATE TABLE probe (x)")
                    connection.execute("INSERT INTO probe VALUES (1)")
            finally:
                connection.close()
        return str(mode).lower()
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                os.unlink(name + suffix)


def check_model(model_file: Path | None) -> Check:
    """The same rule as `serve`: a model file that was given must exist."""
    if model_file is None:
        return Check("model_file", OK, "none given (the chat uses a model server)", required=True)
    problem = check_model_file(model_file)
    if problem is None:
        return Check("model_file", OK, f"{model_file} ({model_file.stat().st_size / 1e6:.0f} MB)", required=True)
    return Check("model_file", FAIL, problem, "Give the path of a GGUF file with --model-file (or model_file in "
                 "pipulate.toml), or leave it out to use a model server.", required=True)


# The plugins are loaded in a child process, as numpy is: a plugin that crashes on import (or a
# broken numpy under FastHTML) cannot take doctor down.
_PLUGIN_PROBE = """
import json, sys
from pathlib import Path
from pipulate._plugins import PluginError, discover_plugins
errors = []
try:
    classes = discover_plugins([Path(p) for p in json.loads(sys.argv[1])], errors)
except PluginError as error:
    print(json.dumps({"refused": str(error)}))
else:
    print(json.dumps({"apps": len(classes), "errors": [str(e) for e in errors],
                      "yours": [c.name for c in classes if not c.__module__.startswith("pipulate.apps.")]}))
"""


def check_plugins(settings: Settings, python: str, env: dict[str, str] | None, numpy_ok: bool = True) -> Check:
    """What `serve` loads: the built-in apps, the plugin folders and entry points. A set that
    serve refuses (two plugins of one name) fails; a plugin that fails to import is named (serve
    starts without it, and shows the same line in the page)."""
    if not numpy_ok:
        return Check("plugins", WARN, "not checked: numpy does not import", "Fix numpy first.", required=True)
    folders = json.dumps([str(folder) for folder in settings.plugin_dirs])
    try:
        result = subprocess.run([python, "-c", _PLUGIN_PROBE, folders], capture_output=True, text=True, errors="replace",
                                timeout=NUMPY_TIMEOUT, env=env, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("plugins", FAIL, f"loading the plugins did not finish: {error}", required=True)
    try:
        found = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        return Check("plugins", FAIL, f"loading the plugins failed: {lines[-1] if lines else 'no answer'}",
                     "Run `pipulate serve` to see the whole error.", required=True)
    if "refused" in found:
        return Check("plugins", FAIL, found["refused"], "Rename or remove one of them.", required=True)
    detail = f"{found['apps']} apps" + (f" ({', '.join(found['yours'])} from plugins)" if found["yours"] else "")
    if found["errors"]:
        return Check("plugins", WARN, f"{detail}; {'; '.join(found['errors'])}",
                     "Fix the file named; the app starts without it (and says so in the page).", required=True)
    return Check("plugins", OK, detail, required=True)


# --- warnings at most ------------------------------------------------------------------------


def check_port(host: str, port: int, app_name: str = "Pipulate") -> Check:
    problem = check_port_free(host, port)
    if problem is None:
        return Check("port", OK, f"port {port} on {host} is free")
    if "already in use" not in problem:
        return Check("port", WARN, problem, "Choose another port with --port (or port in pipulate.toml).")
    url = f"http://127.0.0.1:{port}"
    if _app_answers(url, app_name):
        return Check(
            "port",
            WARN,
            f"port {port} on {host} is in use: {app_name} is already running there",
            f"Open {url} in your browser; to start another one, stop it first or use --port.",
        )
    return Check("port", WARN, f"port {port} on {host} is in use by another program",
                 "Stop the other program, or choose another port with --port.")


def _app_answers(url: str, app_name: str) -> bool:
    try:
        response = httpx.get(f"{url}/", timeout=1.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and app_name in response.text


def run_quietly(command: list[str], timeout: float = 10.0) -> str | None:
    """The command's output (stdout, else stderr), or None when it is not installed."""
    if shutil.which(command[0]) is None:
        return None
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=timeout, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (result.stdout.strip() or result.stderr.strip())


def check_nix(run_command: CommandRunner = run_quietly) -> Check:
    output = run_command(["nix", "--version"])
    if output is None:
        return Check(
            "nix", WARN, "Nix is not installed (only the Nix set-up needs it; pip users can ignore this)",
            "For the Nix set-up, install Nix 2.18 or newer: https://nixos.org/download",
        )
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", output)
    if not found:
        return Check("nix", WARN, f"cannot read Nix's version from `nix --version`: {output[:80]!r}",
                     "Check that `nix --version` works.")
    version = found.group(0)
    if tuple(int(part) for part in found.groups()[:2]) < MIN_NIX:
        return Check(
            "nix",
            WARN,
            f"{version} is older than {MIN_NIX[0]}.{MIN_NIX[1]}, which the flake needs",
            "Upgrade Nix: `sudo -i nix upgrade-nix` (multi-user install), `nix upgrade-nix` (single-user), "
            "or on NixOS a newer nix.package / channel.",
        )
    return Check("nix", OK, version)
