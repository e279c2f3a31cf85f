"""`pipulate upgrade` merges a newer template into a variant: untouched files take the change,
files the user changed too keep both sides between conflict markers, and nothing is lost."""

from __future__ import annotations

import shutil

import pytest

from tests.support.cli import assert_one_line_error

from .support import git, make_template, new_variant, pipulate, release

PLUGIN = "templates/variant/plugins/{% if variant == 'pipulate' %}title_meta.py{% endif %}"
README = "templates/variant/README.md.jinja"
README_OLD = "which files. Nothing is lost; review with `git diff` and commit."
README_NEW = README_OLD + "\n\nNew in the template: this line."
PLUGIN_OLD = 'TITLE_RANGE = (30, 60)  # characters: roughly what search results show before cutting'
PLUGIN_NEW = 'TITLE_RANGE = (30, 60)  # characters: what search results show before cutting (template v0.1.1)'
USER_LINE = 'TITLE_RANGE = (30, 70)  # characters: our own house rule'


@pytest.fixture
def template(tools, tmp_path):
    """A template of its own per test: the tests release new versions of it."""
    return make_template(tmp_path / "template")


@pytest.fixture
def project(template, tmp_path):
    return new_variant(template, "pipulate", tmp_path / "acme", "--name", "Acme Tools")


def commit_edit(project, path, old, new):
    file = project / path
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))
    git(project, "commit", "-q", "-am", f"edit {path}")


def upgrade(project, *args):
    return pipulate("upgrade", str(project), *args, cwd=project.parent)


def test_untouched_files_take_the_change_and_edited_ones_keep_both_sides(template, project):
    release(template, "v0.1.1", {README: (README_OLD, README_NEW), PLUGIN: (PLUGIN_OLD, PLUGIN_NEW)})
    commit_edit(project, "plugins/title_meta.py", PLUGIN_OLD, USER_LINE)

    result = upgrade(project, "--template", str(template))

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "from template v0.1.0 to v0.1.1" in result.stdout
    assert "changed   README.md" in result.stdout
    assert "conflict  plugins/title_meta.py" in result.stdout
    assert "plugins/title_meta.py" in result.stderr and "Nothing was lost" in result.stderr
    assert "New in the template: this line." in (project / "README.md").read_text()
    merged = (project / "plugins" / "title_meta.py").read_text()
    assert USER_LINE in merged  # the user's text is kept...
    assert PLUGIN_NEW in merged  # ...next to the template's
    assert "<<<<<<< before updating" in merged and ">>>>>>> after updating" in merged
    assert "_commit: v0.1.1" in (project / ".copier-answers.yml").read_text()
    assert git(project, "rev-list", "--count", "HEAD").strip() == "2"  # nothing was committed for the user


def test_a_clean_upgrade_exits_0_and_lists_what_changed(template, project):
    release(template, "v0.1.1", {README: (README_OLD, README_NEW), PLUGIN: (PLUGIN_OLD, PLUGIN_NEW)})

    result = upgrade(project)  # the template recorded in .copier-answers.yml

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    assert "changed   README.md" in result.stdout and "changed   plugins/title_meta.py" in result.stdout
    assert "conflict" not in result.stdout
    assert PLUGIN_NEW in (project / "plugins" / "title_meta.py").read_text()
    assert "<<<<<<< before updating" not in (project / "README.md").read_text()


def test_nothing_to_do_when_the_template_has_no_newer_version(project):
    result = upgrade(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date with template v0.1.0" in result.stdout
    assert git(project, "status", "--porcelain") == ""


def test_a_dirty_tree_is_refused_and_left_as_it_was(template, project):
    release(template, "v0.1.1", {README: (README_OLD, README_NEW)})
    (project / "README.md").write_text("my uncommitted text\n")
    result = upgrade(project)
    assert_one_line_error(result, 1, mentions="uncommitted changes")
    assert "commit or stash" in result.stderr
    assert (project / "README.md").read_text() == "my uncommitted text\n"
    assert "_commit: v0.1.0" in (project / ".copier-answers.yml").read_text()


def test_a_moved_template_is_recorded_and_used(template, project, tmp_path):
    release(template, "v0.1.1", {README: (README_OLD, README_NEW)})
    moved = tmp_path / "moved"
    shutil.copytree(template, moved)
    shutil.rmtree(template)  # the recorded source is gone

    result = upgrade(project, "--template", str(moved))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "the template now comes from" in result.stdout
    assert "New in the template: this line." in (project / "README.md").read_text()
    assert f"_src_path: {moved}" in (project / ".copier-answers.yml").read_text()


def test_a_template_without_the_projects_version_fails_and_changes_nothing(tools, project, tmp_path):
    other = make_template(tmp_path / "other", tag="v0.2.0")  # no v0.1.0 to start the merge from
    head = git(project, "rev-parse", "HEAD")
    answers = (project / ".copier-answers.yml").read_text()
    result = upgrade(project, "--template", str(other))
    assert_one_line_error(result, 1, mentions="cannot upgrade")
    assert git(project, "rev-parse", "HEAD") == head
    assert (project / ".copier-answers.yml").read_text() == answers
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("make", "code", "mentions"),
    [
        (lambda tmp: tmp / "missing", 2, "is not a folder"),
        (lambda tmp: tmp, 2, "was not made by pipulate new"),
    ],
    ids=["missing", "not-a-variant"],
)
def test_bad_folders_are_one_line(tools, tmp_path, make, code, mentions):
    result = upgrade(make(tmp_path))
    assert_one_line_error(result, code, mentions=mentions)


def test_a_variant_that_is_not_a_git_repository_is_refused(project):
    shutil.rmtree(project / ".git")
    assert_one_line_error(upgrade(project), 2, mentions="not the top of a git repository")
