"""`pipulate new` makes a working variant: a git repository with one commit, the brand in every
file that names it, installable offline with pip, its own tests passing, its server serving.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from tests.support.cli import clean_env
from tests.support.requirements import require
from tests.support.timing import scaled

from .support import available_variants, git, new_variant, pip_install_editable, serve

BRAND = "Acme & Co's Tools"
SLUG = "acme-co-s-tools"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32  # enough of a PNG for the brand-logo route


@pytest.fixture(scope="module", params=available_variants())
def variant(request, template, tmp_path_factory) -> tuple[str, Path]:
    name = request.param
    folder = tmp_path_factory.mktemp(f"new-{name}")
    logo = folder / "logo.png"
    logo.write_bytes(PNG)
    project = new_variant(
        template, name, folder / "acme", "--name", BRAND, "--port", "5077", "--accent-color", "#123abc",
        "--logo", str(logo),
    )
    return name, project


def test_it_is_a_git_repository_with_one_clean_commit(variant):
    _, project = variant
    assert git(project, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(project, "status", "--porcelain") == ""
    tracked = set(git(project, "ls-files").splitlines())
    assert {".copier-answers.yml", ".gitignore", "README.md", "flake.nix", "pipulate.toml", "pyproject.toml"} <= tracked
    assert "brand/logo.png" in tracked
    assert not any(path.startswith("{%") or "{{" in path or "__pycache__" in path for path in tracked)


def test_the_files_carry_the_brand(variant):
    name, project = variant
    config = tomllib.loads((project / "pipulate.toml").read_text())
    assert config["app_name"] == BRAND
    assert config["database_file"] == f"{SLUG}.db"
    assert config["port"] == 5077
    assert config["accent_color"] == "#123abc"
    assert config["logo"] == "brand/logo.png"
    assert (project / "brand" / "logo.png").read_bytes() == PNG
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == SLUG
    # The core by URL, under this project's distribution name: never PyPI's "pipulate".
    assert any(dep.startswith("pipulate-core @ file://") for dep in pyproject["project"]["dependencies"])
    assert not any(dep.split()[0] in ("pipulate", "pipulate[variants]") for dep in pyproject["project"]["dependencies"])
    flake = (project / "flake.nix").read_text()
    assert f'name = "{SLUG}";' in flake and "port = 5077;" in flake
    assert 'inputs.nixpkgs.follows = "pipulate/nixpkgs";' in flake
    assert BRAND in (project / "README.md").read_text()
    answers = (project / ".copier-answers.yml").read_text()
    assert "_commit: v0.1.0" in answers and f"variant: {name}" in answers
    ignored = (project / ".gitignore").read_text().split()
    assert {"data/", "*.db", "*.db-*", "botify-token", ".botify-token*"} <= set(ignored)
    readme = (project / "README.md").read_text()
    assert "pip install 'pipulate-core[variants] @ file://" in readme and "pipulate[" not in readme


def test_only_the_variants_own_files_are_there(variant):
    name, project = variant
    plugins = {path.name for path in (project / "plugins").glob("*.py")}
    expected = {"darwinix": "notebooks.py", "pipulate": "title_meta.py", "botifython": "botify_projects.py"}
    assert expected[name] in plugins
    assert not (set(expected.values()) - {expected[name]}) & plugins
    assert (project / "notebooks").is_dir() == (name == "darwinix")
    assert (project / "botify").is_dir() == (name == "botifython")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    if name == "botifython":
        assert pyproject["project"]["scripts"] == {f"{SLUG}-token": "botify.token_cli:main"}
        assert pyproject["tool"]["setuptools"]["packages"]["find"]["include"] == ["botify*"]
    else:
        assert "scripts" not in pyproject["project"]
    if name == "darwinix":
        notebook = json.loads((project / "notebooks" / "starter.ipynb").read_text())
        assert notebook["nbformat"] == 4
        assert (project / "jupyter_server_config.py").is_file()


def test_its_python_passes_ruff_with_its_own_settings(variant):
    _, project = variant
    require(importlib.util.find_spec("ruff") is not None, "ruff", "pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_installs_offline_and_its_own_tests_pass(variant, venv_python):
    _, project = variant
    pip_install_editable(venv_python, project)
    result = subprocess.run(
        [str(venv_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=clean_env(), capture_output=True, text=True, timeout=scaled(300),
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout
    assert git(project, "status", "--porcelain") == ""  # tests write nothing into the project


def test_its_server_shows_the_brand_and_names_the_database_after_it(variant, venv_python, tmp_path):
    name, project = variant
    pip_install_editable(venv_python, project)
    server = serve(venv_python, project, project / "data")
    try:
        page = httpx.get(server.url + "/", timeout=scaled(10), trust_env=False)
        logo = httpx.get(server.url + "/brand-logo", timeout=scaled(10), trust_env=False)
    finally:
        server.stop()
    assert page.status_code == 200
    assert "Acme &amp; Co&#x27;s Tools" in page.text or "Acme &amp; Co's Tools" in page.text
    assert "--accent: #123abc" in page.text
    # The SEO tools (installed here for every variant): served by Pipulate and Botifython, which depend
    # on them; Darwinix leaves them out (disabled_plugins).
    assert ("Site audit" in page.text) == (name != "darwinix")
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("pipulate-core-seo @ ") for d in dependencies) == (name != "darwinix")
    assert logo.status_code == 200 and logo.content == PNG
    # It opens on its own tool, not on the core's Todos.
    tool = {"darwinix": "notebooks", "pipulate": "title-meta", "botifython": "botify"}[name]
    assert re.search(rf'<a href="/{tool}"[^>]*aria-current="page"', page.text), page.text[:3000]
    assert (project / "data" / f"{SLUG}.db").is_file()
    assert git(project, "status", "--porcelain") == ""  # data/ is ignored


def test_the_pipulate_variant_by_default_is_not_named_like_the_core(template, tmp_path):
    project = new_variant(template, "pipulate", tmp_path / "seo")
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "pipulate-seo"
    assert tomllib.loads((project / "pipulate.toml").read_text())["app_name"] == "Pipulate SEO"


def test_defaults_come_from_the_variant(template, tmp_path):
    from pipulate._variants import default_port  # here: another test replaces what _variants imports

    project = new_variant(template, "darwinix", tmp_path / "dx")
    config = tomllib.loads((project / "pipulate.toml").read_text())
    assert config["app_name"] == "Darwinix"
    assert config["database_file"] == "darwinix.db"
    assert config["port"] == default_port("darwinix") != 5001  # its own, not the core's
    assert config["home_app"] == "notebooks"
    other = tomllib.loads((new_variant(template, "pipulate", tmp_path / "seo") / "pipulate.toml").read_text())
    assert other["port"] == default_port("pipulate-seo") != config["port"]  # two variants, two ports
    assert other["home_app"] == "title-meta"
    assert config["model"] == "qwen2.5-coder"
    assert "logo" not in config


def test_an_existing_empty_folder_is_fine(template, tmp_path):
    (tmp_path / "empty").mkdir()
    project = new_variant(template, "pipulate", tmp_path / "empty", "--name", "Empty Start")
    assert (project / "pipulate.toml").is_file()
    assert git(project, "log", "--format=%s").strip().startswith("Empty Start: a pipulate variant")


def test_without_a_git_identity_the_first_commit_still_works(template, tmp_path):
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tuseConfigOnly = true\n")  # git may not guess a name either
    project = new_variant(template, "pipulate", tmp_path / "acme", GIT_CONFIG_GLOBAL=str(config), HOME=str(tmp_path))
    assert git(project, "log", "--format=%an <%ae>").strip() == "Pipulate <pipulate@localhost>"


def test_a_configured_git_identity_is_used(template, tmp_path):
    config = tmp_path / "gitconfig"
    config.write_text("[user]\n\tname = Ada Example\n\temail = ada@example.org\n")
    project = new_variant(template, "pipulate", tmp_path / "acme", GIT_CONFIG_GLOBAL=str(config), HOME=str(tmp_path))
    assert git(project, "log", "--format=%an <%ae>").strip() == "Ada Example <ada@example.org>"
