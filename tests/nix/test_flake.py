"""The flake evaluates on every system, its shells and apps work, and typos fail evaluation.

Everything runs offline against tests/nix/stub-nixpkgs, a stand-in for nixpkgs with only the
packages the flake uses. On x86_64-linux the smoke tests also build the stub's packages (wrappers
that run the host's tools found on PATH) and enter the shells / run the apps: the host Python
that runs these tests (it has pipulate installed) plays Nix's Python, so its folder goes first on
PATH. The venv shell pip-installs Pipulate from PyPI into its .venv (about half a minute).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.requirements import require
from tests.support.server import free_port
from tests.support.timing import poll, scaled

from .support import (
    BUILD,
    ROOT,
    STUB,
    answering_ollama,
    fake_tool,
    git_add_all,
    make_git_copy,
    project_files,
    run_nix,
    stub_override,
    stub_url,
)

SHELLS = {"default", "venv", "darwinix"}
APPS = {"default", "ollama", "up", "doctor"}
CHECKS = {"numpy", "websocket", "pytest", "format"}


def systems(nix_env) -> list[str]:
    out = run_nix(["nix-instantiate", "--eval", "--json", "nix/systems.nix"], ROOT, nix_env).stdout
    return json.loads(out)


def test_every_nix_file_parses(nix_env):
    nix_files = [name for name in project_files() if name.endswith(".nix")]
    assert {"flake.nix", "nix/lib.nix", f"{STUB}/flake.nix"} <= set(nix_files)
    for name in nix_files:
        run_nix(["nix-instantiate", "--parse", name], ROOT, nix_env)


def test_systems_are_the_four_supported(nix_env):
    assert systems(nix_env) == ["x86_64-linux", "aarch64-linux", "aarch64-darwin", "x86_64-darwin"]


def test_flake_check_evaluates_every_output(flake, nix_env):
    result = run_nix(["nix", "flake", "check", "--no-build", *stub_override(flake)], flake, nix_env)
    assert "error" not in result.stderr.lower()


def test_flake_show_lists_the_shells_apps_and_checks(flake, nix_env):
    shown = json.loads(run_nix(["nix", "flake", "show", "--json", *stub_override(flake)], flake, nix_env).stdout)
    for system in systems(nix_env):
        assert set(shown["devShells"][system]) == SHELLS
        assert set(shown["apps"][system]) == APPS
        assert set(shown["checks"][system]) == CHECKS
        assert system in shown["formatter"]
        assert {"default", "pipulate"} <= set(shown["packages"][system])


def evaluate(flake, nix_env, output: str, expression: str):
    args = ["nix", "eval", "--json", f".#{output}", "--apply", expression, *stub_override(flake)]
    return json.loads(run_nix(args, flake, nix_env).stdout)


def test_every_shell_and_app_evaluates_on_every_system(flake, nix_env):
    every_system = set(systems(nix_env))
    shells = evaluate(flake, nix_env, "devShells", "builtins.mapAttrs (s: builtins.mapAttrs (n: d: d.drvPath))")
    apps = evaluate(
        flake,
        nix_env,
        "apps",
        "builtins.mapAttrs (s: builtins.mapAttrs (n: a: { inherit (a) type program; d = a.meta.description; }))",
    )
    checks = evaluate(flake, nix_env, "checks", "builtins.mapAttrs (s: builtins.mapAttrs (n: c: c.drvPath))")
    assert set(shells) == set(apps) == set(checks) == every_system
    for system in every_system:
        assert set(shells[system]) == SHELLS
        assert all(path.startswith("/nix/store/") and path.endswith(".drv") for path in shells[system].values())
        assert set(apps[system]) == APPS
        for app in apps[system].values():
            assert app["type"] == "app"
            assert app["program"].startswith("/nix/store/") and "/bin/" in app["program"]
            assert len(app["d"]) > 10  # meta.description
        assert set(checks[system]) == CHECKS


@pytest.mark.parametrize(
    ("system", "data_dir", "absent"),
    [
        ("aarch64-darwin", "$HOME/Library/Application Support/pipulate", "XDG_DATA_HOME"),
        ("x86_64-linux", "${XDG_DATA_HOME:-$HOME/.local/share}/pipulate", "Library/Application Support"),
    ],
)
def test_the_apps_data_dir_follows_the_platform(flake, nix_env, system, data_dir, absent):
    # The script's text is in its derivation, so this needs no build (none runs for Darwin here).
    args = ["nix", "show-derivation", f".#packages.{system}.default", *stub_override(flake)]
    (derivation,) = json.loads(run_nix(args, flake, nix_env).stdout).values()
    text = "\n".join(derivation["env"].values())
    assert data_dir in text
    assert absent not in text


@pytest.mark.parametrize(
    ("path", "old", "new", "named"),
    [
        ("nix/shells.nix", "pkgs.sqlite\n", "pkgs.sqlitee\n", "sqlitee"),
        ("nix/python-packages.json", '"numpy": "numpy"', '"numpy": "numpyy"', "numpyy"),
        (
            "pyproject.toml",
            "dependencies = [\n",
            'dependencies = [\n    "not-in-the-mapping>=1",\n',
            "not-in-the-mapping",
        ),
    ],
    ids=["shells.nix", "python-packages.json", "pyproject.toml"],
)
def test_an_unknown_package_name_fails_evaluation(nix_env, tmp_path, path, old, new, named):
    copy = make_git_copy(tmp_path)
    text = (copy / path).read_text()
    assert old in text
    (copy / path).write_text(text.replace(old, new, 1))
    git_add_all(copy)
    attr = ".#devShells.x86_64-linux.default.drvPath"
    result = run_nix(["nix", "eval", "--raw", attr, *stub_override(copy)], copy, nix_env, check=False)
    assert result.returncode != 0
    assert named in result.stderr


# --- Smoke runs on x86_64-linux: the stub's packages are built and run -------------------------


RECORDER = """import json, os, sys
with open(os.environ["RECORD"], "w") as f:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ)}, f)
"""


def test_default_shell_has_python_with_pipulate_and_numpy_and_changes_nothing(flake, smoke_env, tmp_path):
    before = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=flake, capture_output=True, text=True)
    code = "import numpy, pipulate; print(pipulate.__file__)"
    # From another folder too (as tests start servers): PYTHONPATH names the working tree.
    command = f'cd "{tmp_path}" && python -c "{code}"'
    result = run_nix(["nix", "develop", *BUILD, *stub_override(flake), "-c", "bash", "-c", command], flake, smoke_env)
    assert result.stdout.strip() == str(flake / "pipulate" / "__init__.py")  # the working tree's
    assert "python -m pipulate serve" in result.stderr  # the banner, on stderr
    after = subprocess.run(["git", "status", "--porcelain", "--ignored"], cwd=flake, capture_output=True, text=True)
    assert after.stdout == before.stdout


@pytest.mark.timeout(scaled(1300))  # longer than its two nix commands' own limits (900 s + 300 s)
def test_venv_shell_makes_a_venv_with_numpy_and_preloads_the_loader_libs(smoke_env, tmp_path):
    copy = make_git_copy(tmp_path / "flake")
    # SOURCE_DATE_EPOCH as mkShell sets it; a PYTHONPATH from the caller's environment.
    env = dict(smoke_env, SOURCE_DATE_EPOCH="315532800", PYTHONPATH=str(tmp_path / "elsewhere"))
    code = (
        "import os, sys, numpy; maps = open('/proc/self/maps').read(); "
        "print(sys.prefix, 'libstdc++' in maps, os.environ.get('SOURCE_DATE_EPOCH'), os.environ.get('PYTHONPATH'))"
    )
    develop = ["nix", "develop", *BUILD, *stub_override(copy), ".#venv", "-c", "python", "-c", code]
    first = run_nix(develop, copy, env, timeout=900)
    prefix, preloaded, epoch, pythonpath = first.stdout.split()
    assert Path(prefix) == copy / ".venv"
    assert preloaded == "True"  # the .pth loaded libstdc++ at start-up (plain python does not)
    assert epoch == "None"
    assert pythonpath == "None"  # unset: nothing outside the venv comes first
    assert "(first entry, or pyproject.toml changed)" in first.stderr
    assert "Error processing line" not in first.stderr
    assert (copy / ".venv" / ".installed-nix").is_file()
    assert list((copy / ".venv").glob("lib/python*/site-packages/_nix_loader_libs.pth"))

    second = run_nix(develop, copy, env, timeout=300)  # the stamp: no second install
    assert "(first entry, or pyproject.toml changed)" not in second.stderr
    assert second.stdout.split()[1] == "True"


def test_nix_run_serves_with_the_given_options(flake, smoke_env):
    result = run_nix(["nix", "run", *BUILD, *stub_override(flake), ".", "--", "--help"], flake, smoke_env)
    assert "usage: pipulate serve" in result.stdout
    assert "--data-dir" in result.stdout


def test_default_app_uses_the_user_data_dir_and_passes_arguments(flake, smoke_env, tmp_path):
    fake_tool(tmp_path / "bin", "python", RECORDER)
    env = dict(smoke_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{smoke_env['PATH']}", RECORD=str(tmp_path / "r.json"))
    run_nix(["nix", "run", *BUILD, *stub_override(flake), str(flake), "--", "--port", "5009"], tmp_path, env)
    recorded = json.loads((tmp_path / "r.json").read_text())
    data_dir = f"{env['HOME']}/.local/share/pipulate"
    assert recorded["argv"] == ["-m", "pipulate", "serve", "--data-dir", data_dir, "--port", "5009"]


def test_doctor_app_runs_pipulate_doctor_with_the_data_dir(flake, smoke_env, tmp_path):
    fake_tool(tmp_path / "bin", "python", RECORDER)
    env = dict(
        smoke_env,
        PATH=f"{tmp_path / 'bin'}{os.pathsep}{smoke_env['PATH']}",
        RECORD=str(tmp_path / "r.json"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
    )
    run_nix(["nix", "run", *BUILD, *stub_override(flake), f"{flake}#doctor", "--", "--verbose"], tmp_path, env)
    recorded = json.loads((tmp_path / "r.json").read_text())
    assert recorded["argv"] == ["-m", "pipulate", "doctor", "--verbose"]
    assert recorded["env"]["PIPULATE_DATA_DIR"] == str(tmp_path / "xdg" / "pipulate")


def test_ollama_app_binds_loopback_and_keeps_models_in_the_data_dir(flake, smoke_env, tmp_path):
    fake_tool(tmp_path / "bin", "ollama", RECORDER)
    env = dict(smoke_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{smoke_env['PATH']}", RECORD=str(tmp_path / "r.json"))
    env.pop("OLLAMA_HOST", None)
    env.pop("OLLAMA_MODELS", None)
    run_nix(["nix", "run", *BUILD, *stub_override(flake), f"{flake}#ollama"], tmp_path, env)
    recorded = json.loads((tmp_path / "r.json").read_text())
    models = Path(env["HOME"]) / ".local/share/pipulate/ollama/models"
    assert recorded["argv"] == ["serve"]
    assert recorded["env"]["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert recorded["env"]["OLLAMA_MODELS"] == str(models)
    assert models.is_dir()


FAKE_OLLAMA_SERVER = """import http.server, os, pathlib
pathlib.Path(os.environ["PIDFILE"]).write_text(str(os.getpid()))
class Version(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"version": "0.0.0-fake"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
host, port = os.environ["OLLAMA_HOST"].rsplit(":", 1)
http.server.HTTPServer((host, int(port)), Version).serve_forever()
"""


def answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=scaled(0.5)).close()
        return True
    except OSError:
        return False


def run_up(flake, smoke_env, tmp_path, port: int):
    """`nix run .#up -- --help` with OLLAMA_HOST on `port` (a free one: whatever listens on
    11434 on this machine cannot change what is tested) and a fake `ollama` that serves there."""
    fake_tool(tmp_path / "bin", "ollama", FAKE_OLLAMA_SERVER)
    pidfile = tmp_path / "ollama.pid"
    env = dict(smoke_env, PATH=f"{tmp_path / 'bin'}{os.pathsep}{smoke_env['PATH']}", PIDFILE=str(pidfile),
               OLLAMA_HOST=f"127.0.0.1:{port}")
    result = run_nix(["nix", "run", *BUILD, *stub_override(flake), ".#up", "--", "--help"], flake, env)
    assert "usage: pipulate serve" in result.stdout
    return result, pidfile


def test_up_starts_ollama_runs_the_app_and_stops_what_it_started(flake, smoke_env, tmp_path):
    port = free_port()
    result, pidfile = run_up(flake, smoke_env, tmp_path, port)
    assert f"starting Ollama on 127.0.0.1:{port}" in result.stderr, result.stderr
    pid = int(pidfile.read_text())

    def gone() -> bool:  # the trap killed it by PID before `up` exited; allow the kernel a moment
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        poll(gone, 5, "the Ollama that up started is stopped")
    except AssertionError:
        os.kill(pid, 9)
        raise
    assert not answers(port)


def test_up_uses_an_ollama_that_already_answers_and_leaves_it_running(flake, smoke_env, tmp_path):
    with answering_ollama(free_port()) as port:
        result, pidfile = run_up(flake, smoke_env, tmp_path, port)
        assert f"using the Ollama that answers at 127.0.0.1:{port}" in result.stderr, result.stderr
        assert "starting Ollama" not in result.stderr
        assert not pidfile.exists()  # the fake ollama was never started
        assert answers(port)  # and the running one was not stopped


def test_app_scripts_and_shell_hooks_pass_shellcheck(flake, smoke_env):
    # nixpkgs runs shellcheck on every writeShellApplication when building it: a finding here
    # would fail `nix run` on a real machine.
    require(shutil.which("shellcheck") is not None, "shellcheck", "apt-get install -y shellcheck")
    expression = "apps: builtins.mapAttrs (n: a: builtins.attrNames (builtins.getContext a.program)) apps"
    drvs = json.loads(
        run_nix(
            ["nix", "eval", "--json", ".#apps.x86_64-linux", "--apply", expression, *stub_override(flake)],
            flake,
            smoke_env,
        ).stdout
    )
    for name, drv_paths in drvs.items():
        run_nix(["nix-store", "--realise", *drv_paths, *BUILD], flake, smoke_env)
        program = run_nix(
            ["nix", "eval", "--raw", f".#apps.x86_64-linux.{name}.program", *stub_override(flake)], flake, smoke_env
        ).stdout
        checked = subprocess.run(["shellcheck", program], capture_output=True, text=True)
        assert checked.returncode == 0, f"apps.{name}:\n{checked.stdout}"
    for shell in sorted(SHELLS):
        hook = run_nix(
            ["nix", "eval", "--raw", f".#devShells.x86_64-linux.{shell}.shellHook", *stub_override(flake)],
            flake,
            smoke_env,
        ).stdout
        checked = subprocess.run(["shellcheck", "--shell=bash", "-"], input=hook, capture_output=True, text=True)
        assert checked.returncode == 0, f"devShells.{shell}.shellHook:\n{checked.stdout}"


VARIANT_FLAKE = """{
  inputs.pipulate.url = "git+file://@CORE@";
  outputs = { self, pipulate }:
    pipulate.lib.mkVariant {
      src = self;
      name = "botifython";
      port = 5002;
      extraPythonPackages = ps: [ ps.httpx ];
    };
}
"""


def test_a_variant_gets_the_same_shells_and_apps_with_its_brand(flake, nix_env, tmp_path):
    variant = tmp_path / "botifython"
    variant.mkdir()
    (variant / "flake.nix").write_text(VARIANT_FLAKE.replace("@CORE@", str(flake)))
    (variant / "pipulate.toml").write_text('app_name = "Botifython"\nport = 5002\n')
    git_add_all(variant)
    override = ["--no-write-lock-file", "--override-input", "pipulate/nixpkgs", stub_url(flake)]
    shells = json.loads(
        run_nix(
            ["nix", "eval", "--json", ".#devShells", "--apply", "builtins.mapAttrs (s: builtins.attrNames)", *override],
            variant,
            nix_env,
        ).stdout
    )
    assert all(set(names) == SHELLS for names in shells.values()) and len(shells) == 4
    apps = json.loads(
        run_nix(
            [
                "nix",
                "eval",
                "--json",
                ".#apps.x86_64-linux",
                "--apply",
                "builtins.mapAttrs (n: a: a.program)",
                *override,
            ],
            variant,
            nix_env,
        ).stdout
    )
    assert set(apps) == APPS and apps["default"].endswith("/bin/botifython-serve")
    checks = run_nix(
        ["nix", "eval", "--json", ".#checks.x86_64-linux", "--apply", "builtins.attrNames", *override], variant, nix_env
    ).stdout
    assert json.loads(checks) == ["numpy", "websocket"]  # the core's test suite and formatting are the core's
    (derivation,) = json.loads(
        run_nix(["nix", "show-derivation", ".#packages.x86_64-linux.default", *override], variant, nix_env).stdout
    ).values()
    text = "\n".join(derivation["env"].values())
    assert 'PIPULATE_PORT="${PIPULATE_PORT:-5002}"' in text
    assert "-source/pipulate.toml" in text and "PIPULATE_CONFIG" in text
    assert "/.local/share}/botifython" in text
