"""What `nix run` and `nix flake check` need at run time, offline against the stand-in nixpkgs.

- The app's environment carries a WebSocket library (uvicorn[standard]'s websockets, through
  python-fasthtml built at its pin), and the app `nix run` starts completes a /ws handshake
  (nix/websocket-smoke.py, the same script checks.websocket runs on a machine with the network).
- The checks that start loopback servers may do so in the macOS sandbox, and the pytest check
  has git (the variant tests need it).
- `nix run .#up` respects a user's OLLAMA_HOST.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.timing import scaled

from .support import BUILD, ROOT, STUB, answering_ollama, fake_tool, run_nix, stub_override

PYTHON_ENV_CLOSURE = """
let
  lib = import ./{stub}/lib.nix;
  pkgs = import ./{stub}/packages.nix {{ inherit lib; system = "x86_64-linux"; }};
  py = import ./nix/python.nix {{ inherit pkgs lib; coreSrc = ./.; }};
  walk = drvs: builtins.concatMap (d: [ {{ name = d.pname; version = d.version; relax = d.relaxDeps or [ ]; }} ]
    ++ walk (d.dependencies or [ ])) drvs;
in {{ app = walk py.appEnv.packages; dev = walk py.devEnv.packages; }}
"""


def python_closure(nix_env) -> dict[str, list[dict]]:
    expression = PYTHON_ENV_CLOSURE.format(stub=STUB)
    out = run_nix(["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression], ROOT, nix_env).stdout
    return json.loads(out)


def test_the_app_environment_has_a_websocket_library_and_the_pinned_packages(nix_env):
    closure = python_closure(nix_env)
    app = {entry["name"]: entry["version"] for entry in closure["app"]}
    assert "websockets" in app  # without it every /ws handshake is a 404 under `nix run`
    overrides = json.loads((ROOT / "nix" / "python-overrides.json").read_text())["packages"]
    for name in ("python-fasthtml", "fastcore", "fastlite", "apswutils", "httpx2", "httpcore2", "dbos", "croniter"):
        assert app[name] == overrides[name]["version"], name
    assert "fasthtml" not in app  # nixpkgs' own, older FastHTML is not used
    # dbos's psycopg[binary] and sqlalchemy[asyncio], Parquet and Excel for workflow results.
    assert {"psycopg", "psycopg-c", "sqlalchemy", "greenlet", "click", "pyarrow", "openpyxl"} <= set(app)
    dev = {entry["name"] for entry in closure["dev"]}
    assert {"websockets", "fastapi", "sse-starlette", "starlette-context", "llama-cpp-python"} <= dev


def test_no_package_is_built_with_all_its_version_checks_relaxed(nix_env):
    for entry in python_closure(nix_env)["dev"]:
        assert entry["relax"] is not True, entry["name"]  # only named requirements, with reasons
    assert "pythonRelaxDeps = true" not in (ROOT / "nix" / "python.nix").read_text()


def test_the_loopback_checks_may_listen_on_macos_and_pytest_has_git(flake, nix_env):
    for check in ("pytest", "websocket"):
        args = ["nix", "show-derivation", f".#checks.aarch64-darwin.{check}", *stub_override(flake)]
        (derivation,) = json.loads(run_nix(args, flake, nix_env).stdout).values()
        assert derivation["env"].get("__darwinAllowLocalNetworking") == "1", check
        if check == "pytest":
            assert "-git-stub/bin" in derivation["env"]["PATH"]
        else:
            assert "websocket-smoke.py" in json.dumps(derivation)


@pytest.fixture(scope="module")
def serve_script(flake, smoke_env) -> Path:
    """`nix run`'s program, built against the stand-in (its python runs this test's interpreter)."""
    result = run_nix(
        ["nix", "build", "--no-link", "--json", *BUILD, ".#packages.x86_64-linux.default", *stub_override(flake)],
        flake, smoke_env,
    )
    (built,) = json.loads(result.stdout)
    return Path(built["outputs"]["out"]) / "bin" / "pipulate-serve"


def test_the_app_nix_run_starts_completes_a_websocket_handshake(smoke_env, serve_script, tmp_path):
    env = dict(smoke_env, PIPULATE_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, str(ROOT / "nix" / "websocket-smoke.py"), str(serve_script)],
        env=env, capture_output=True, text=True, timeout=scaled(120),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "101 Switching Protocols" in result.stdout


def test_the_smoke_check_fails_without_a_websocket_library(smoke_env, serve_script, tmp_path):
    blocker = tmp_path / "blocker"
    for module in ("websockets", "wsproto"):
        (blocker / module).mkdir(parents=True)
        (blocker / module / "__init__.py").write_text("raise ImportError('blocked for this test')\n")
    env = dict(smoke_env, PIPULATE_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(blocker))
    result = subprocess.run(
        [sys.executable, str(ROOT / "nix" / "websocket-smoke.py"), str(serve_script)],
        env=env, capture_output=True, text=True, timeout=scaled(120),
    )
    assert result.returncode == 1 and "404" in result.stderr


def test_up_uses_the_ollama_at_the_users_ollama_host(flake, smoke_env, tmp_path):
    with answering_ollama() as port:
        fake_tool(tmp_path / "bin", "ollama", "import sys; sys.exit('up must not start an Ollama here')\n")
        host = f"http://127.0.0.1:{port}"
        env = dict(smoke_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{smoke_env['PATH']}", OLLAMA_HOST=host)
        result = run_nix(["nix", "run", *BUILD, *stub_override(flake), ".#up", "--", "--help"], flake, env)
    assert f"using the Ollama that answers at {host}" in result.stderr
    assert "usage: pipulate serve" in result.stdout
