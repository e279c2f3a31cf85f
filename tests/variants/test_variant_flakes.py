"""A variant's flake evaluates offline: the core comes from a local copy of this repository (as
`pipulate` input) and nixpkgs is the stand-in of tests/nix, through the core's own input
(`inputs.nixpkgs.follows = "pipulate/nixpkgs"`). The apps carry the variant's name, port and
pipulate.toml."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from pathlib import Path

import pytest

from tests.nix.support import HOW_TO_GET_NIX, ROOT, run_nix, stub_url
from tests.support.requirements import require

from .support import available_variants, new_variant

SHELLS = {"default", "venv", "darwinix"}
APPS = {"default", "ollama", "up", "doctor"}
SYSTEMS = {"x86_64-linux", "aarch64-linux", "aarch64-darwin", "x86_64-darwin"}


@pytest.fixture(scope="module")
def nix_env(tools) -> dict[str, str]:
    require(shutil.which("nix") is not None, "Nix", HOW_TO_GET_NIX)
    env = dict(os.environ)
    env["NIX_CONFIG"] = "experimental-features = nix-command flakes\nsubstituters =\n"
    return env


def overrides(core: Path) -> list[str]:
    """The core from the template copy, its nixpkgs from the stand-in; no lock file is written."""
    return [
        "--no-write-lock-file",
        "--override-input", "pipulate", f"path:{core}",
        "--override-input", "pipulate/nixpkgs", stub_url(core),
    ]


@pytest.fixture(scope="module", params=available_variants())
def variant(request, template, tmp_path_factory) -> tuple[str, Path]:
    folder = tmp_path_factory.mktemp(f"flake-{request.param}")
    return request.param, new_variant(template, request.param, folder / "acme", "--name", "Acme Tools", "--port", "5077")


def test_flake_show_lists_the_cores_shells_and_apps(variant, template, nix_env):
    _, project = variant
    shown = json.loads(run_nix(["nix", "flake", "show", "--json", *overrides(template)], project, nix_env).stdout)
    assert set(shown["apps"]) == set(shown["devShells"]) == SYSTEMS
    for system in SYSTEMS:
        assert set(shown["apps"][system]) == APPS
        assert set(shown["devShells"][system]) == SHELLS
        assert set(shown["checks"][system]) == {"numpy", "websocket"}  # the core's test suite is the core's


def test_shells_and_apps_evaluate_to_derivations(variant, template, nix_env):
    _, project = variant
    def evaluate(attribute: str, expression: str):
        args = ["nix", "eval", "--json", f".#{attribute}", "--apply", expression, *overrides(template)]
        return json.loads(run_nix(args, project, nix_env).stdout)

    evaluated = {
        "shells": evaluate("devShells.x86_64-linux", "builtins.mapAttrs (n: d: d.drvPath)"),
        "apps": evaluate("apps.x86_64-linux", "builtins.mapAttrs (n: a: a.program)"),
    }
    assert all(path.endswith(".drv") for path in evaluated["shells"].values())
    assert evaluated["apps"]["default"].endswith("/bin/acme-tools-serve")


def test_the_app_uses_the_variants_name_port_and_config(variant, template, nix_env):
    _, project = variant
    args = ["nix", "show-derivation", ".#packages.x86_64-linux.default", *overrides(template)]
    (derivation,) = json.loads(run_nix(args, project, nix_env).stdout).values()
    script = "\n".join(derivation["env"].values())
    assert 'PIPULATE_PORT="${PIPULATE_PORT:-5077}"' in script
    assert "/.local/share}/acme-tools" in script
    assert "-source/pipulate.toml" in script  # the variant's own config, copied into the store


def test_nix_run_serves_the_variant(template, nix_env, tmp_path):
    """Built and run on x86_64-linux (the stand-in's packages wrap the host's tools): the serve
    script starts `python -m pipulate serve` with the variant's pipulate.toml."""
    if (sys.platform, platform.machine()) != ("linux", "x86_64"):
        pytest.skip("the stand-in's builds run on x86_64-linux only")
    project = new_variant(template, "pipulate", tmp_path / "acme", "--name", "Acme Tools", "--port", "5077")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorder = bin_dir / "python"
    recorder.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "json.dump({'argv': sys.argv[1:], 'config': os.environ.get('PIPULATE_CONFIG'),"
        " 'port': os.environ.get('PIPULATE_PORT')}, open(os.environ['RECORD'], 'w'))\n"
    )
    recorder.chmod(0o755)
    env = dict(nix_env, PATH=f"{bin_dir}{os.pathsep}{nix_env['PATH']}", RECORD=str(tmp_path / "record.json"),
               HOME=str(tmp_path / "home"))
    for name in ("PIPULATE_CONFIG", "PIPULATE_PORT", "PIPULATE_DATA_DIR", "XDG_DATA_HOME"):
        env.pop(name, None)
    run_nix(["nix", "run", "--option", "sandbox", "false", *overrides(template), ".", "--", "--open"], project, env)
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["argv"][:3] == ["-m", "pipulate", "serve"] and record["argv"][-1] == "--open"
    assert record["port"] == "5077"
    config = Path(record["config"])
    assert config.name == "pipulate.toml" and config.read_text() == (project / "pipulate.toml").read_text()
    assert (config.parent / "plugins" / "title_meta.py").is_file()  # plugin_dirs resolve next to it


def test_the_default_core_is_this_project_a_flake_with_lib_mkvariant(template, nix_env, tmp_path):
    """Made without --core-url, a variant's flake points at this checkout (Pipulate runs from one
    here; installed otherwise, at pyproject.toml's [project.urls] Source), and evaluates with the
    core as it is: mkVariant comes from the core's `lib`. Only nixpkgs is the stand-in."""
    from .support import pipulate

    project = tmp_path / "acme"
    result = pipulate("new", "pipulate", str(project), "--template", str(template), "--name", "Acme Tools",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    flake = (project / "flake.nix").read_text()
    assert f'inputs.pipulate.url = "git+file://{ROOT}";' in flake
    override = ["--no-write-lock-file", "--override-input", "pipulate/nixpkgs", stub_url(ROOT)]
    apps = json.loads(run_nix(
        ["nix", "eval", "--json", ".#apps.x86_64-linux", "--apply", "builtins.mapAttrs (n: a: a.program)", *override],
        project, nix_env,
    ).stdout)
    assert set(apps) == APPS and apps["default"].endswith("/bin/acme-tools-serve")
    names = run_nix(["nix", "eval", "--json", f"git+file://{ROOT}#lib", "--apply", "builtins.attrNames",
                     "--no-write-lock-file", "--override-input", "nixpkgs", stub_url(ROOT)], project, nix_env).stdout
    assert "mkVariant" in json.loads(names)
