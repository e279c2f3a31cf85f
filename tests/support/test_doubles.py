"""tests/support/doubles.py: tests under tests/support/ are marked and counted apart from the
product's, in the terminal summary of the same run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from tests.support.doubles import DoublesReport
from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]


def report(nodeid, when, outcome, **extra):
    return SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, failed=outcome == "failed",
                           skipped=outcome == "skipped", passed=outcome == "passed", **extra)


def test_each_test_counts_once_with_pytests_outcome():
    doubles = DoublesReport()
    doubles.is_double = {"d::ok": True, "d::bad": True, "p::ok": False, "p::teardown": False, "p::skip": False}
    for nodeid, phases in {
        "d::ok": ["passed", "passed", "passed"],
        "d::bad": ["passed", "failed", "failed"],
        "p::ok": ["passed", "passed", "passed"],
        "p::teardown": ["passed", "passed", "failed"],
        "p::skip": ["skipped", None, "passed"],
    }.items():
        for when, outcome in zip(("setup", "call", "teardown"), phases, strict=True):
            if outcome:
                doubles.pytest_runtest_logreport(report(nodeid, when, outcome))
    counted_doubles, product = doubles.counts()
    assert counted_doubles == {"passed": 1, "failed": 1}
    assert product == {"passed": 1, "error": 1, "skipped": 1}


def test_the_summary_of_a_run_names_both_counts():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS",)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/support/test_timing.py", "tests/test_text.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=scaled(120),
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = result.stdout[result.stdout.index("counted apart from the product's"):]
    lines = summary.splitlines()
    assert lines[1].startswith("test doubles and harness (tests/support, -m support): ") and " passed" in lines[1]
    assert lines[2].startswith("product: ") and " passed" in lines[2]
