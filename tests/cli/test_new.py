"""`pipulate new` and `pipulate upgrade` refuse bad input with one readable line and write nothing.

Input mistakes exit 2; a missing tool (copier, git) or a template that fails exits 1 and says
what to do. None of these needs a template to be rendered, except the last, which renders a
broken one and checks that nothing is left behind.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, clean_env, run_cli
from tests.support.requirements import require
from tests.support.timing import scaled

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def template(tmp_path) -> Path:
    """Enough of a template for the checks that run before rendering: copier.yml in a git repo."""
    require(shutil.which("git") is not None, "git", "apt-get install -y git")
    folder = tmp_path / "template"
    folder.mkdir()
    (folder / "copier.yml").write_text("_subdirectory: templates/variant\n")
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    return folder


def new(tmp_path: Path, *args: str, directory: str = "acme", env: dict | None = None):
    return run_cli("new", *args[:1], directory, *args[1:], cwd=tmp_path, env=env)


def assert_nothing_written(tmp_path: Path, before: set[str]) -> None:
    assert {p.name for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["nixos"], "unknown variant 'nixos'"),
        (["pipulate", "--name", ""], "--name cannot be empty"),
        (["pipulate", "--name", "   "], "--name cannot be empty"),
        (["pipulate", "--name", "Acme/Tools"], "not '/'"),
        (["pipulate", "--name", "..\\Acme"], "not '\\\\'"),
        (["pipulate", "--name", "Acme $(rm -rf ~)"], "not '$'"),
        (["pipulate", "--name", "Acme; ls"], "not ';'"),
        (["pipulate", "--name", 'Acme "Tools"'], "not '\"'"),
        (["pipulate", "--name", "Acme\nTools"], "not '\\n'"),
        (["pipulate", "--name", "A" * 61], "61 characters long; the limit is 60"),
        (["pipulate", "--name", "&&&"], "at least one letter"),
        (["pipulate", "--port", "http"], "port must be a number"),
        (["pipulate", "--port", "0"], "between 1 and 65535"),
        (["pipulate", "--port", "70000"], "between 1 and 65535"),
        (["pipulate", "--accent-color", "red"], "must look like #2f6d5a"),
        (["pipulate", "--accent-color", "#12345"], "must look like #2f6d5a"),
        (["pipulate", "--model", "two words"], "--model must be a model name"),
        (["pipulate", "--core-url", "ftp://example.org/core"], "--core-url must be"),
        (["pipulate", "--template", "no-such-folder"], "no copier.yml"),
        # A project named like the core would depend on itself (or on PyPI's other "pipulate").
        (["pipulate", "--name", "Pipulate"], "'pipulate', which is the core's own name"),
        (["darwinix", "--name", "pipulate"], "'pipulate', which is the core's own name"),
        (["botifython", "--name", "Pipulate Core"], "'pipulate-core', which is the core's own name"),
        (["pipulate", "--name", "PIPULATE--core."], "'pipulate-core', which is the core's own name"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, mentions):
    before = {p.name for p in tmp_path.iterdir()}
    result = new(tmp_path, *args)
    assert_one_line_error(result, 2, mentions=mentions)
    assert_nothing_written(tmp_path, before)


def test_a_folder_that_is_not_empty_is_refused(tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "notes.txt").write_text("mine")
    assert_one_line_error(new(tmp_path, "pipulate"), 2, mentions="is not empty")
    assert [p.name for p in (tmp_path / "acme").iterdir()] == ["notes.txt"]


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "acme").write_text("a file")
    assert_one_line_error(new(tmp_path, "pipulate"), 2, mentions="is not a folder")


def test_a_template_that_is_not_a_git_repository_is_refused(tmp_path):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "copier.yml").write_text("")
    assert_one_line_error(new(tmp_path, "pipulate", "--template", "plain"), 2, mentions="not a git repository")


@pytest.mark.parametrize(
    ("name", "content", "mentions"),
    [
        ("missing.png", None, "does not exist"),
        ("logo.gif", b"GIF89a", "must be an .svg, .png, .jpg or .webp file"),
        ("logo.png", b"<svg></svg>", "is not a PNG image"),
        ("logo.svg", b"\x89PNG\r\n\x1a\n", "is not a SVG image"),
        ("logo.webp", PNG, "is not a WebP image"),
        ("folder.png", "folder", "is not a file"),
    ],
    ids=["missing", "gif", "png-that-is-svg", "svg-that-is-png", "webp-that-is-png", "folder"],
)
def test_a_bad_logo_is_refused(tmp_path, template, name, content, mentions):
    logo = tmp_path / name
    if content == "folder":
        logo.mkdir()
    elif content is not None:
        logo.write_bytes(content)
    before = {p.name for p in tmp_path.iterdir()}
    result = new(tmp_path, "pipulate", "--logo", str(logo), "--template", str(template))
    assert_one_line_error(result, 2, mentions=mentions)
    assert_nothing_written(tmp_path, before)


def test_a_place_that_cannot_hold_a_folder_is_exit_1(tmp_path, template):
    (tmp_path / "a-file").write_text("not a folder")
    result = run_cli("new", "pipulate", str(tmp_path / "a-file" / "acme"), "--template", str(template), cwd=tmp_path)
    assert_one_line_error(result, 1, mentions="is not a writable folder")


def test_without_copier_it_says_how_to_install_it(tmp_path, template):
    blocker = tmp_path / "blocker" / "copier"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('copier is blocked for this test')\n")
    env = clean_env(PYTHONPATH=str(tmp_path / "blocker"))
    before = {p.name for p in tmp_path.iterdir()}
    result = new(tmp_path, "pipulate", "--template", str(template), env=env)
    # From this project (this checkout, or its source URL), never PyPI's unrelated "pipulate".
    assert_one_line_error(result, 1, mentions=expected_install(tmp_path, "variants"))
    assert "pipulate[" not in result.stderr
    assert_nothing_written(tmp_path, before)
    result = run_cli("upgrade", str(tmp_path), cwd=tmp_path, env=env)
    assert_one_line_error(result, 2, mentions="not made by pipulate new")  # input is checked first


def test_without_git_it_says_so(tmp_path, template):
    require(importlib.util.find_spec("copier") is not None, "copier", "pip install -e '.[variants]'")
    empty = tmp_path / "no-tools"
    empty.mkdir()
    env = clean_env(PATH=str(empty))
    result = subprocess.run(
        [sys.executable, "-m", "pipulate", "new", "pipulate", "acme", "--template", str(template)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=scaled(60),
    )
    assert_one_line_error(result, 1, mentions="git is not installed")
    assert not (tmp_path / "acme").exists()


def test_a_template_that_fails_to_render_leaves_nothing_behind(tmp_path, template):
    require(importlib.util.find_spec("copier") is not None, "copier", "pip install -e '.[variants]'")
    (template / "copier.yml").write_text("_subdirectory: [this is: not valid\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "add", "-A"], cwd=template, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "broken"], cwd=template, check=True)
    subprocess.run([*git, "tag", "v0.1.0"], cwd=template, check=True)
    result = new(tmp_path, "pipulate", "--template", str(template))
    line = assert_one_line_error(result, 1, mentions="cannot make the variant")
    assert str(template) in line
    assert not (tmp_path / "acme").exists()


# --- every hint installs this project; the defaults name it -----------------------------------------


def expected_install(tmp_path, extra: str, env: dict | None = None) -> str:
    """The install command as `python -m pipulate` computes it here: this checkout when it runs
    from one (`pip install -e CHECKOUT[extra]`), else this project's source URL."""
    code = f"from pipulate._install import install_command; print(install_command({extra!r}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env or clean_env(),
                            capture_output=True, text=True, check=True)
    command = result.stdout.strip()
    source = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    assert command.startswith("pip install -e ") or command == (
        f"pip install 'pipulate-core[{extra}] @ git+{source}'"
    ), command
    return command


@pytest.mark.parametrize("command", ["new", "upgrade"])
def test_help_says_to_install_copier_from_this_project(tmp_path, command):
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.returncode == 0
    text = "".join(result.stdout.split())  # argparse wraps lines, even inside a path
    assert "".join(expected_install(tmp_path, "variants").split()) in text
    assert "pipulate[" not in text and "pipulate/pipulate" not in text


def test_from_an_installed_copy_hints_name_the_source_url():
    import pipulate._install as install

    source = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Source"]
    real = install.checkout
    try:
        install.checkout = lambda: None  # as when installed from a wheel or from the URL
        assert install.install_command("variants") == f"pip install 'pipulate-core[variants] @ git+{source}'"
        assert install.flake_source() == "github:" + source.removeprefix("https://github.com/")
        from pipulate._variants import default_core_url, default_template

        assert default_core_url() == install.flake_source()
        assert default_template() == source + ".git"
    finally:
        install.checkout = real


def test_the_distribution_is_not_pypis_pipulate():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "pipulate-core"
    assert project["scripts"] == {"pipulate": "pipulate._cli:main"}  # the command keeps its name
    assert project["urls"]["Source"].startswith("https://")  # the one place the core's URL is set
    copier_yml = (ROOT / "copier.yml").read_text()
    assert "default: pipulate-core" in copier_yml  # the template's name for the core, the same
    assert "github:pipulate/pipulate" not in copier_yml


def test_the_default_name_of_the_pipulate_variant_does_not_collide():
    from pipulate._variants import BRANDS, RESERVED_SLUGS, slug_of

    assert all(slug_of(brand) not in RESERVED_SLUGS for brand in BRANDS.values())
    assert BRANDS["pipulate"] == "Pipulate SEO"
