"""`pipulate upgrade` in process, on a tiny template of its own (seconds, not minutes): the merge,
its refusals, and each of the three signs of a conflict on its own (git's unmerged list,
conflict markers, a rejected hunk). test_upgrade.py runs the command on the real template."""

from __future__ import annotations

import subprocess

import pytest

from pipulate._variant_upgrade import _conflicts, _status, upgrade
from pipulate._variants import ANSWERS_FILE, VariantError, read_answers

from .support import git

ANSWERS_TEMPLATE = "{{ _copier_conf.answers_file }}.jinja"


@pytest.fixture
def template(tools, tmp_path):
    """A copier template in a git repository, tagged v1: a README naming the project, and notes."""
    folder = tmp_path / "template"
    folder.mkdir()
    (folder / "copier.yml").write_text("name:\n  type: str\n  default: Acme\n")
    (folder / ANSWERS_TEMPLATE).write_text("{{ _copier_answers|to_nice_yaml -}}\n")
    (folder / "README.md.jinja").write_text("# {{ name }}\n\nline one\nline two\nline three\n")
    (folder / "notes.txt").write_text("first note\nsecond note\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "v1")
    git(folder, "tag", "v1")
    return folder


@pytest.fixture
def project(template, tmp_path):
    from copier import run_copy

    folder = tmp_path / "acme"
    run_copy(str(template), folder, vcs_ref="v1", defaults=True, quiet=True)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "made from v1")
    return folder


def release(template, tag: str, path: str, old: str, new: str) -> None:
    file = template / path
    file.write_text(file.read_text().replace(old, new, 1))
    git(template, "commit", "-q", "-am", tag)
    git(template, "tag", tag)


def commit_edit(project, path: str, old: str, new: str) -> None:
    file = project / path
    assert old in file.read_text()
    file.write_text(file.read_text().replace(old, new, 1))
    git(project, "commit", "-q", "-am", f"edit {path}")


def unmerged(project) -> list[str]:
    return [p for p in git(project, "diff", "--name-only", "--diff-filter=U").splitlines() if p]


# --- the merge ---------------------------------------------------------------------------------------


def test_an_untouched_file_takes_the_change_cleanly(template, project):
    release(template, "v2", "notes.txt", "second note", "second note, revised")
    result = upgrade(project)
    assert result.directory == project
    assert (result.old_version, result.new_version) == ("v1", "v2")
    assert result.changed == [ANSWERS_FILE, "notes.txt"]
    assert result.conflicts == []
    assert (project / "notes.txt").read_text() == "first note\nsecond note, revised\n"
    assert result.notes == []


def test_a_line_changed_on_both_sides_is_a_conflict_that_keeps_both(template, project):
    release(template, "v2", "README.md.jinja", "line two", "line two, the template's")
    commit_edit(project, "README.md", "line two", "line two, mine")
    result = upgrade(project)
    assert result.conflicts == ["README.md"]
    text = (project / "README.md").read_text()
    assert "line two, mine" in text and "line two, the template's" in text and "<<<<<<< " in text
    assert unmerged(project) == ["README.md"]  # copier marked it so, as well


def test_nothing_to_do_changes_nothing(project):
    result = upgrade(project)
    assert (result.old_version, result.new_version, result.changed, result.conflicts) == ("v1", "v1", [], [])


def test_a_moved_template_is_recorded_and_committed_first(template, project, tmp_path):
    release(template, "v2", "notes.txt", "first note", "first note, revised")
    moved = tmp_path / ("a folder name with spaces, long enough that a YAML writer would wrap the line " * 2).strip()
    template.rename(moved)
    result = upgrade(project, str(moved))
    assert result.notes == [f"the template now comes from {moved} (recorded in {ANSWERS_FILE}, committed)"]
    assert result.conflicts == [] and "notes.txt" in result.changed
    assert git(project, "log", "-1", "--format=%s").strip() == f"Template source: {moved}"
    # What pipulate committed (copier then rewrites the file in its own style): the line replaced, whole.
    committed = git(project, "show", f"HEAD:{ANSWERS_FILE}").splitlines()
    assert [line for line in committed if line.startswith("_src_path:")] == [f"_src_path: {moved}"]
    assert read_answers(project)["_src_path"] == str(moved)


def test_the_same_template_again_records_nothing(template, project):
    release(template, "v2", "notes.txt", "first note", "first note, revised")
    commits = git(project, "rev-list", "--count", "HEAD")
    result = upgrade(project, str(template))
    assert result.notes == [] and "notes.txt" in result.changed
    assert git(project, "rev-list", "--count", "HEAD") == commits


def test_an_answers_file_without_a_source_gets_one(template, project):
    answers = project / ANSWERS_FILE
    answers.write_text("".join(line for line in answers.read_text().splitlines(keepends=True) if not line.startswith("_src_path:")))
    git(project, "commit", "-q", "-am", "no source")
    release(template, "v2", "notes.txt", "first note", "first note, revised")
    upgrade(project, str(template))
    assert f"_src_path: {template}\n" in answers.read_text()


def test_the_source_commit_uses_the_projects_own_identity_or_a_stand_in(template, project, tmp_path, monkeypatch):
    """No global git identity (a fresh machine, CI): the project's own, else a stand-in."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        monkeypatch.delenv(name, raising=False)
    release(template, "v2", "notes.txt", "first note", "first note, revised")
    moved = tmp_path / "moved"
    template.rename(moved)
    upgrade(project, str(moved))  # commits with a stand-in author
    assert git(project, "log", "-1", "--format=%s").strip() == f"Template source: {moved}"

    git(project, "reset", "-q", "--hard", "HEAD~1")
    subprocess.run(["git", "config", "user.name", "Project Owner"], cwd=project, check=True)
    subprocess.run(["git", "config", "user.email", "owner@example.test"], cwd=project, check=True)
    upgrade(project, str(moved.parent / "moved"))
    assert git(project, "log", "-1", "--format=%an <%ae>").strip() == "Project Owner <owner@example.test>"


def test_a_failed_upgrade_takes_back_the_recorded_source(template, project, tmp_path):
    head = git(project, "rev-parse", "HEAD")
    other = tmp_path / "other"
    other.mkdir()
    (other / "copier.yml").write_text("name:\n  type: str\n")
    git(other, "init", "-q", "-b", "main")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "no v1 here")
    git(other, "tag", "v9")
    with pytest.raises(VariantError, match="cannot upgrade") as failed:
        upgrade(project, str(other))
    assert failed.value.code == 1
    assert git(project, "rev-parse", "HEAD") == head
    assert git(project, "status", "--porcelain") == ""


def test_a_failed_upgrade_without_a_new_source_keeps_every_commit(template, project, tmp_path):
    commit_edit(project, "notes.txt", "first note", "my own first note")
    head = git(project, "rev-parse", "HEAD")
    template.rename(tmp_path / "gone")  # the recorded source is not there any more
    with pytest.raises(VariantError) as failed:
        upgrade(project)
    assert str(failed.value).startswith(f"cannot upgrade {project}: ")
    assert str(failed.value) != f"cannot upgrade {project}: None"
    assert git(project, "rev-parse", "HEAD") == head
    assert "my own first note" in (project / "notes.txt").read_text()


def test_a_template_may_not_run_commands(template, project):
    """copier runs a template's tasks only when told it is safe: an upgrade never does."""
    (template / "copier.yml").write_text("name:\n  type: str\n  default: Acme\n_tasks:\n  - touch ran-a-task\n")
    git(template, "commit", "-q", "-am", "v2 with a task")
    git(template, "tag", "v2")
    with pytest.raises(VariantError, match="cannot upgrade"):
        upgrade(project)
    assert not (project / "ran-a-task").exists()
    assert git(project, "status", "--porcelain") == ""


# --- refusals ----------------------------------------------------------------------------------------


def test_a_dirty_tree_is_refused_and_named(project):
    (project / "notes.txt").write_text("uncommitted\n")
    (project / "new.txt").write_text("untracked\n")
    with pytest.raises(VariantError) as refused:
        upgrade(project)
    assert refused.value.code == 1
    assert "has uncommitted changes (2 files, e.g. new.txt)" in str(refused.value)
    (project / "new.txt").unlink()
    with pytest.raises(VariantError, match=r"\(1 file, e\.g\. notes\.txt\)"):
        upgrade(project)


def test_an_untracked_file_in_a_new_folder_is_named_itself(project):
    (project / "drafts").mkdir()
    (project / "drafts" / "idea.txt").write_text("untracked\n")
    with pytest.raises(VariantError, match=r"\(1 file, e\.g\. drafts/idea\.txt\)"):
        upgrade(project)


def test_status_lists_short_names_and_renames_once(project):
    (project / "a").write_text("one letter\n")
    git(project, "add", "a")
    git(project, "commit", "-q", "-m", "a")
    git(project, "mv", "README.md", "READ.md")  # a staged rename: new name, then the old one
    (project / "a").write_text("changed\n")
    (project / "z.txt").write_text("new\n")
    assert _status(project) == ["READ.md", "a", "z.txt"]


def test_folders_that_are_not_variants_are_refused(project, tmp_path):
    with pytest.raises(VariantError, match="is not a folder") as missing:
        upgrade(tmp_path / "missing")
    assert missing.value.code == 2
    with pytest.raises(VariantError, match="was not made by pipulate new"):
        upgrade(tmp_path)
    subfolder = project / "sub"
    subfolder.mkdir()
    (subfolder / ANSWERS_FILE).write_text((project / ANSWERS_FILE).read_text())
    with pytest.raises(VariantError, match="not the top of a git repository"):
        upgrade(subfolder)


# --- the signs of a conflict, each on its own ----------------------------------------------------------


def test_conflict_markers_alone_make_a_conflict(project):
    (project / "notes.txt").write_text("<<<<<<< before updating\nmine\n=======\ntheirs\n>>>>>>> after updating\n")
    (project / "README.md").write_text("# Acme\n\ntalks about <<<<<<< markers mid-line\n")
    assert unmerged(project) == []  # git knows of no conflict here
    assert _conflicts(project, _status(project)) == ["notes.txt"]


def test_gits_unmerged_list_alone_makes_a_conflict(project):
    """A modify/delete conflict: git lists the path as unmerged, the file has no markers."""
    git(project, "checkout", "-q", "-b", "theirs")
    git(project, "rm", "-q", "notes.txt")
    git(project, "commit", "-q", "-m", "delete notes")
    git(project, "checkout", "-q", "main")
    commit_edit(project, "notes.txt", "first note", "first note, edited")
    merge = git_merge_failing(project, "theirs")
    assert "CONFLICT (modify/delete)" in merge
    assert "<<<<<<<" not in (project / "notes.txt").read_text()
    assert unmerged(project) == ["notes.txt"]
    assert _conflicts(project, _status(project)) == ["notes.txt"]


def test_a_rejected_hunk_is_a_conflict(project):
    (project / "notes.txt.rej").write_text("diff a/notes.txt b/notes.txt\t(rejected hunks)\n@@ -1 +1 @@\n-a\n+b\n")
    (project / "notes.txt").write_text("first note\nsecond note\nthird note\n")  # changed, no conflict
    (project / "README.md").unlink()  # deleted: not a conflict either
    assert _status(project) == ["README.md", "notes.txt", "notes.txt.rej"]
    assert _conflicts(project, _status(project)) == ["notes.txt.rej"]


def git_merge_failing(folder, branch: str) -> str:
    import subprocess

    from .support import IDENTITY

    result = subprocess.run(["git", *IDENTITY, "merge", branch], cwd=folder, capture_output=True, text=True)
    assert result.returncode != 0, result.stdout
    return result.stdout + result.stderr
