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
# A mutant that makes a test hang (timeout) or crash (mutmut reports a process it had to kill, as
# an endless loop is after its CPU limit, as "segfault") was caught too.
CAUGHT = ("killed", "timeout", "segfault")


# A line of SQL: a statement, or a clause handed to fastlite (where=..., order_by=...).
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|CONFLICT|VALUES|WHERE|ORDER)\b", re.I)
CODEC = re.compile(r"[\"'](utf-8|utf-16|latin-1)[\"']", re.I)


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    lines = diff.splitlines()
    return ([line[1:] for line in lines if line.startswith("-") and not line.startswith("---")],
            [line[1:] for line in lines if line.startswith("+") and not line.startswith("+++")])


def case_only(diff: str) -> tuple[str, str] | None:
    """The one line a mutant changed, before and after, when only letter case changed."""
    before, after = changed_lines(diff)
    if len(before) == len(after) == 1 and before != after and before[0].lower() == after[0].lower():
        return before[0], after[0]
    return None


# Rules: a kind of mutant that cannot change what the program does, named in the equivalents file.
def rule_sql_case(diff: str) -> bool:
    """Only the case of SQL changed, and no quoted SQL value with it: SQLite reads keywords,
    table, column and pragma names without regard to case."""
    lines = case_only(diff)
    return bool(lines and SQL.search(lines[0]) and re.findall(r"'[^']*'", lines[0]) == re.findall(r"'[^']*'", lines[1]))


def rule_codec_case(diff: str) -> bool:
    """Only the case of a codec name changed: Python looks codecs up without regard to case."""
    lines = case_only(diff)
    return bool(lines and CODEC.search(lines[0]) and CODEC.sub("", lines[0]) == CODEC.sub("", lines[1]))


RULES = {"sql-case": rule_sql_case, "codec-case": rule_codec_case}


def equivalents() -> tuple[dict[str, str], dict[str, str]]:
    """(mutant name -> why, rule name -> why) from lines `NAME  reason` and `rule:RULE  reason`."""
    listed, rules = {}, {}
    for line in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.strip().partition(" ")
            if name.startswith("rule:"):
                assert name[5:] in RULES, f"{EQUIVALENT_FILE}: no rule {name[5:]!r} (known: {', '.join(RULES)})"
                rules[name[5:]] = reason.strip()
            else:
                listed[name] = reason.strip()
    return listed, rules


def diff_of(name: str, path: str) -> str:
    try:
        return re.sub(r"^(---|\+\+\+) .*\n", "", get_diff_for_mutant(name, path=path), flags=re.M)
    except Exception as error:  # a diff is a convenience; the name is what matters
        return f"  (no diff: {error})"


def main() -> int:
    config()  # reads [tool.mutmut] from pyproject.toml
    listed, rules = equivalents()
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

    by_rule, unexplained, explained = Counter(), [], []
    for path, name, status in survivors:
        if name in listed:
            explained.append(name)
            continue
        diff = diff_of(name, path)
        rule = next((rule for rule in rules if RULES[rule](diff)), None) if status == "survived" else None
        if rule:
            by_rule[rule] += 1
        else:
            unexplained.append((name, status, diff))
    if explained or by_rule:
        print(f"\n{len(explained) + sum(by_rule.values())} equivalent (scripts/mutate-equivalent.txt):")
        for rule, count in sorted(by_rule.items()):
            print(f"  {count} by the rule {rule}: {rules[rule]}")
        for name in explained:
            print(f"  {name}: {listed[name]}")
    total, equivalent = sum(totals.values()), len(explained) + sum(by_rule.values())
    caught = sum(totals[status] for status in CAUGHT)
    print(f"\nscore: {caught}/{total} = {100 * caught / total:.1f}% of all mutants; "
          f"{caught}/{total - equivalent} = {100 * caught / max(total - equivalent, 1):.1f}% of those that can be caught; "
          f"{len(unexplained)} unexplained")
    stale = sorted(set(listed) - {name for _, name, _ in survivors})
    if stale:
        print(f"\n{len(stale)} listed in {EQUIVALENT_FILE} but not surviving now (the code moved: re-check):")
        for name in stale:
            print(f"  {name}")
    if unexplained:
        print(f"\n{len(unexplained)} surviving, not explained (write a test, or list it as equivalent):")
        for name, status, diff in unexplained:
            print(f"\n# {name} ({status})")
            print(diff)
    return 0


if __name__ == "__main__":
    sys.exit(main())
