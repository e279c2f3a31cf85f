"""`pipulate upgrade`: merge a newer version of the variant template into a variant.

Copier re-renders the version the variant was made from (recorded in .copier-answers.yml) and
the template's latest version, and applies the difference to the variant: a file the user did
not touch takes the change; where both changed the same lines, the file keeps both between
conflict markers. The result is left uncommitted for the user to review.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ._variants import (
    ANSWERS_FILE,
    VariantError,
    _copier_output,
    _git,
    _identity_options,
    _one_line,
    check_template,
    read_answers,
    require_tools,
)

CONFLICT_MARKER = b"<<<<<<< "


@dataclass
class Upgraded:
    directory: Path
    old_version: str
    new_version: str
    changed: list[str]
    conflicts: list[str]
    notes: list[str] = field(default_factory=list)


def upgrade(directory: str | Path, template: str | None = None) -> Upgraded:
    directory = Path(directory).expanduser().absolute()
    if not directory.is_dir():
        raise VariantError(f"{directory} is not a folder")
    if not (directory / ANSWERS_FILE).is_file():
        raise VariantError(f"{directory} was not made by pipulate new (it has no {ANSWERS_FILE})")
    require_tools()
    if not _is_git_root(directory):
        raise VariantError(f"{directory} is not the top of a git repository; upgrades merge with git")
    dirty = _status(directory)
    if dirty:
        example = dirty[0]
        raise VariantError(
            f"{directory} has uncommitted changes ({len(dirty)} file{'s' if len(dirty) != 1 else ''}, "
            f"e.g. {example}); commit or stash them, then run pipulate upgrade again",
            1,
        )
    before = read_answers(directory)
    notes: list[str] = []
    recorded = False
    if template:
        template = check_template(template)
        if template != before.get("_src_path"):
            _record_template_source(directory, template)
            recorded = True
            notes.append(f"the template now comes from {template} (recorded in {ANSWERS_FILE}, committed)")
    from copier import run_update

    try:
        with _copier_output(notes):
            run_update(
                directory,
                defaults=True,
                overwrite=True,
                conflict="inline",
                unsafe=False,
                quiet=True,
            )
    except Exception as error:
        if recorded:  # take back our commit of the new source: the upgrade did not happen
            subprocess.run(["git", "reset", "-q", "--keep", "HEAD~1"], cwd=directory, capture_output=True)
        raise VariantError(f"cannot upgrade {directory}: {_one_line(error)}", 1) from None
    after = read_answers(directory)
    changed = _status(directory)
    return Upgraded(
        directory,
        str(before.get("_commit", "?")),
        str(after.get("_commit", "?")),
        changed,
        _conflicts(directory, changed),
        notes,
    )


def _conflicts(directory: Path, changed: list[str]) -> list[str]:
    """The changed paths that need the user. Either sign is enough: git lists the path as unmerged
    (copier marks its inline conflicts so), or the file holds conflict markers, or it is a rejected
    hunk (.rej)."""
    unmerged = set(_git(directory, "diff", "--name-only", "--diff-filter=U", "-z").split("\0"))
    return [path for path in changed if path in unmerged or _has_conflict(directory / path)]


def _record_template_source(directory: Path, template: str) -> None:
    """Point the answers file at TEMPLATE (a moved or local copy of the same repository) and commit
    that alone, so the upgrade starts from a clean tree that names its real source."""
    import yaml

    path = directory / ANSWERS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = yaml.safe_dump({"_src_path": template}, default_flow_style=False, width=10_000)
    replaced = [entry if line.startswith("_src_path:") else line for line in lines]
    if replaced == lines:
        replaced.append(entry)
    path.write_text("".join(replaced), encoding="utf-8")
    _git(directory, "add", ANSWERS_FILE)
    message = f"Template source: {template}"
    _git(directory, *_identity_options(directory), "commit", "-q", "-m", message)


def _has_conflict(path: Path) -> bool:
    if path.suffix == ".rej":
        return True
    try:
        with path.open("rb") as handle:
            return any(line.startswith(CONFLICT_MARKER) for line in handle)
    except OSError:
        return False  # deleted by the upgrade, or a folder


def _is_git_root(directory: Path) -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--show-toplevel"], cwd=directory, capture_output=True, text=True
    )
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == directory.resolve()


def _status(directory: Path) -> list[str]:
    """Paths that differ from HEAD (changed, new, deleted or in conflict), untracked ones listed one by one."""
    out = _git(directory, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    paths, entries = [], out.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # a rename: the old name follows
            index += 1
    return sorted(dict.fromkeys(paths))
