"""The report of scripts/mutate: the score per module and overall, then every survivor.

A survivor listed in scripts/mutate-equivalent.txt (with why it cannot be caught) is shown
apart; any other survivor is a test to write. Run from the repository root after mutmut.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

EQUIVALENT_FILE = Path("scripts/mutate-equivalent.txt")
CAUGHT = ("killed", "timeout")  # a mutant that makes a test hang was caught too


def equivalents() -> dict[str, str]:
    """mutant name -> why it is equivalent, from lines `NAME  reason` (# starts a comment)."""
    listed = {}
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip() if not line.startswith("#") else ""
        if line:
            name, _, reason = line.partition(" ")
            listed[name] = reason.strip()
    return listed


def main() -> int:
    config()  # reads [tool.mutmut] from pyproject.toml
    listed = equivalents()
    rows, survivors, totals = [], [], Counter()
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            continue
        counts = Counter(status_by_exit_code[code] for code in data.exit_code_by_key.values())
        totals.update(counts)
        rows.append((str(path), counts))
        survivors += [(str(path), name, status_by_exit_code[code]) for name, code in data.exit_code_by_key.items()
                      if status_by_exit_code[code] not in CAUGHT]
    if not rows:
        print("no results: run scripts/mutate first", file=sys.stderr)
        return 1

    def score(counts: Counter) -> str:
        total = sum(counts.values())
        caught = sum(counts[status] for status in CAUGHT)
        return f"{caught:4d}/{total:<4d} {100 * caught / total:5.1f}%"

    print(f"{'module':40} {'caught/all':>10}  score   not caught")
    for path, counts in rows:
        missed = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in CAUGHT)
        print(f"{path:40} {score(counts)}   {missed}")
    print(f"{'overall':40} {score(totals)}")

    unexplained = [survivor for survivor in survivors if survivor[1] not in listed]
    explained = [survivor for survivor in survivors if survivor[1] in listed]
    if explained:
        print(f"\n{len(explained)} equivalent (listed in {EQUIVALENT_FILE}):")
        for _, name, _ in explained:
            print(f"  {name}: {listed[name]}")
    stale = sorted(set(listed) - {name for _, name, _ in survivors})
    if stale:
        print(f"\n{len(stale)} listed in {EQUIVALENT_FILE} but not surviving now (the code moved: re-check):")
        for name in stale:
            print(f"  {name}")
    if unexplained:
        print(f"\n{len(unexplained)} surviving, not explained (write a test, or list it as equivalent):")
        for path, name, status in unexplained:
            print(f"\n# {name} ({status})")
            try:
                print(re.sub(r"^(---|\+\+\+) .*\n", "", get_diff_for_mutant(name, path=path), flags=re.M))
            except Exception as error:  # a diff is a convenience; the name is what matters
                print(f"  (no diff: {error})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
