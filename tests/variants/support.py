"""Helpers for the variant tests: a template repository with a version tag, `pipulate new` and
`pipulate upgrade` run as the user runs them, a venv to install a variant into, and its server.

The template is a throw-away git copy of this repository (tracked files plus new ones not
ignored: what the lead would commit), committed and tagged v0.1.0, so copier sees a versioned
template exactly as it would see Pipulate's own repository. Nothing here uses the network.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

from tests.nix.support import ROOT, make_git_copy
from tests.support.cli import clean_env
from tests.support.server import RunningServer, free_port, wait_until_ready
from tests.support.timing import scaled

VARIANT_TEMPLATE = ROOT / "templates" / "variant"
BOTIFY_PACKAGE = VARIANT_TEMPLATE / "{% if variant == 'botifython' %}botify{% endif %}"
IDENTITY = ["-c", "user.name=Variant Tests", "-c", "user.email=tests@localhost", "-c", "commit.gpgsign=false"]


def available_variants() -> list[str]:
    """Every variant whose files are in the template (botifython's come from its own work)."""
    variants = ["darwinix", "pipulate"]
    if (BOTIFY_PACKAGE / "__init__.py").is_file():
        variants.append("botifython")
    return variants


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", *IDENTITY, *args], cwd=folder, capture_output=True, text=True)
    assert result.returncode == 0, f"git {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout


def make_template(destination: Path, tag: str = "v0.1.0") -> Path:
    """A git copy of this repository with one commit, tagged TAG."""
    make_git_copy(destination)
    git(destination, "commit", "-q", "-m", "template")
    git(destination, "tag", tag)
    return destination


def release(template: Path, tag: str, changes: dict[str, tuple[str, str]]) -> None:
    """Edit template files (path -> (old, new) text, old must be there), commit, tag TAG."""
    for path, (old, new) in changes.items():
        file = template / path
        text = file.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {path}"
        file.write_text(text.replace(old, new, 1), encoding="utf-8")
    git(template, "commit", "-q", "-am", f"release {tag}")
    git(template, "tag", tag)


def pipulate(*args: str, cwd: Path, timeout: float = 120, **env_extra: str) -> subprocess.CompletedProcess:
    """`python -m pipulate ARGS` with this interpreter (copier installed), no PIPULATE_* settings."""
    env = clean_env(GIT_CONFIG_NOSYSTEM="1", **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pipulate", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=scaled(timeout)
    )


def new_variant(template: Path, variant: str, destination: Path, *args: str, **env_extra: str) -> Path:
    result = pipulate(
        "new", variant, str(destination), "--template", str(template), "--core-url", str(template), *args,
        cwd=destination.parent, **env_extra,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return destination


def make_venv(folder: Path) -> Path:
    """A venv (with --system-site-packages) whose Python also sees this interpreter's packages,
    so `pipulate` and its dependencies are this checkout's and nothing is downloaded.

    --system-site-packages reaches the base interpreter's packages, not those of the venv running
    the tests, so a .pth file adds this interpreter's site-packages (and runs their .pth files,
    which is how the editable pipulate is found)."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=os.name != "nt").create(folder)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    ours = [path for path in site.getsitepackages() if Path(path).is_dir()]
    lines = [f"import site; site.addsitedir({path!r})" for path in ours]
    (Path(purelib) / "_variant_tests_parent.pth").write_text("\n".join(lines) + "\n")
    return python


def pip_install_editable(python: Path, project: Path) -> None:
    """Offline: no index, no build isolation (setuptools is already here), no dependencies."""
    command = [
        sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--disable-pip-version-check",
        "--no-index", "--no-build-isolation", "--no-deps", "-e", str(project),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=scaled(300))
    assert result.returncode == 0, result.stdout + result.stderr


def serve(python: Path, project: Path, data_dir: Path) -> RunningServer:
    """`python -m pipulate serve` in the project's folder (so its pipulate.toml is read)."""
    port = free_port()
    log_path = project.parent / f"{project.name}-server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(python), "-m", "pipulate", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            cwd=project, env=clean_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = RunningServer(process, port, data_dir, log_path)
    wait_until_ready(server, 30)
    return server
