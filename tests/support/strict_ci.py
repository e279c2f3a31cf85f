"""Under CI=true nothing may pass by not running: a pytest plugin (tests/conftest.py imports its
hooks; `-p tests.support.strict_ci` loads it elsewhere, as the probe in test_strict_ci.py does).

- A test skipped at set-up or in its body (a missing dependency, `skipif`) fails.
- A module skipped at collection (`pytest.importorskip` or `pytest.skip(allow_module_level=True)`
  at module level) is a collection error; the rest of the suite still runs (CI continues on
  collection errors, so one missing dependency does not hide the others).
- An expected failure fails, and so does an unexpected pass: an `xfail` is a known bug left in
  the suite, which CI must not count as green.

Locally (CI unset) skips and xfails are reported as pytest reports them.
"""

from __future__ import annotations

import pytest

from tests.support.requirements import in_ci


def _reason(longrepr) -> str:
    return str(longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr)


def pytest_configure(config):
    if in_ci():
        config.option.continue_on_collection_errors = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if not in_ci():
        return report
    expected_failure = getattr(report, "wasxfail", None)
    if expected_failure is not None:
        del report.wasxfail  # reported as a plain failure, not as xfailed / xpassed
        if report.skipped:
            report.outcome = "failed"
            report.longrepr = f"xfail under CI=true, which counts as a failure: {expected_failure or 'no reason given'}"
        elif report.passed:
            report.outcome = "failed"
            report.longrepr = f"xpass (an xfail that passed) under CI=true, which counts as a failure: {expected_failure or 'no reason given'}"
    elif report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which counts as a failure: {_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = (
            f"{collector.nodeid} was skipped at collection under CI=true, which counts as a failure: "
            f"{_reason(report.longrepr)}"
        )
    return report
