"""Tests of the test doubles are reported apart from the product's tests.

Every test under tests/support/ tests the suite's own tools (the fake Ollama, the fake Botify, the
scripted model server, the CI and timing plugins), not Pipulate: it gets the `support` marker, and
the terminal summary counts those tests separately from the product's, so the product's count
never includes them. `-m support` runs only them, `-m "not support"` only the product's.

One run rather than a separate pytest run in scripts/test: the doubles share the session's model
file and servers with the product's tests, CI keeps one exit status, and options such as a single
file (`./scripts/test tests/test_store.py`) keep working unchanged.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

SUPPORT = Path(__file__).resolve().parent
MARKER = "support"
ORDER = ("failed", "error", "passed", "skipped", "xfailed", "xpassed")


class DoublesReport:
    def __init__(self) -> None:
        self.is_double: dict[str, bool] = {}
        self.outcomes: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            if Path(item.path).resolve().is_relative_to(SUPPORT):
                item.add_marker(MARKER)
            self.is_double[item.nodeid] = item.get_closest_marker(MARKER) is not None

    def pytest_runtest_logreport(self, report):
        """One outcome per test, as pytest's own summary counts them: a failure in set-up or
        tear-down is an error, a failure of the test itself wins over everything."""
        before = self.outcomes.get(report.nodeid)
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
            if before != "failed":
                self.outcomes[report.nodeid] = outcome
        elif report.skipped:
            self.outcomes[report.nodeid] = "xfailed" if hasattr(report, "wasxfail") else "skipped"
        elif report.when == "call" and before is None:
            self.outcomes[report.nodeid] = "xpassed" if hasattr(report, "wasxfail") else "passed"

    def counts(self) -> tuple[Counter, Counter]:
        doubles, product = Counter(), Counter()
        for nodeid, outcome in self.outcomes.items():
            (doubles if self.is_double.get(nodeid) else product)[outcome] += 1
        return doubles, product

    def pytest_terminal_summary(self, terminalreporter):
        doubles, product = self.counts()
        if not doubles:
            return
        terminalreporter.section("tests of the test doubles, counted apart from the product's")
        terminalreporter.line(f"test doubles and harness (tests/support, -m {MARKER}): {describe(doubles)}")
        terminalreporter.line(f"product: {describe(product)}")


def describe(counter: Counter) -> str:
    return ", ".join(f"{counter[name]} {name}" for name in ORDER if counter[name]) or "none ran"


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}: a test of the test doubles or the test harness (tests/support/)")
    config.pluginmanager.register(DoublesReport(), "pipulate-doubles-report")
