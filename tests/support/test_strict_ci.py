"""The probe for tests/support/strict_ci.py: pytest run in a subprocess on small test files, with
and without CI=true. Under CI a module skipped at collection, a skipped test, an xfail and an xpass
each make the run fail (and a passing test beside them still runs); without CI they are reported
as pytest reports them and the run passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import tests.conftest
from tests.support.timing import scaled

ROOT = Path(__file__).resolve().parents[2]

PROBES = {
    "module_skip": "import pytest\npytest.skip('no frobnicator here', allow_module_level=True)\n\ndef test_never(): pass\n",
    "module_importorskip": "import pytest\npytest.importorskip('no_such_module_anywhere')\n\ndef test_never(): pass\n",
    "skip_in_test": "import pytest\n\ndef test_skips():\n    pytest.skip('no frobnicator here')\n",
    "xfail": "import pytest\n\n@pytest.mark.xfail(reason='known bug 42')\ndef test_fails():\n    assert False\n",
    "xpass": "import pytest\n\n@pytest.mark.xfail(reason='known bug 42')\ndef test_passes():\n    pass\n",
    "imperative_xfail": "import pytest\n\ndef test_gives_up():\n    pytest.xfail('known bug 42')\n",
}
EXPECTED_LOCALLY = {  # the line of each in pytest's short summary (-rA)
    "module_skip": "SKIPPED",
    "module_importorskip": "SKIPPED",
    "skip_in_test": "SKIPPED",
    "xfail": "XFAIL",
    "xpass": "XPASS",
    "imperative_xfail": "XFAIL",
}
PASSING = "def test_fine():\n    assert 1 + 1 == 2\n"


def run_probe(folder: Path, files: dict[str, str], ci: bool) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (folder / f"test_{name}.py").write_text(text)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_TIMEOUT")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.strict_ci", "-p", "no:cacheprovider", "-rA",
         "--rootdir", str(folder), "-c", os.devnull, str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=scaled(60),
    )


def summary(result: subprocess.CompletedProcess) -> str:
    return result.stdout.strip().splitlines()[-1]


def short_summary(result: subprocess.CompletedProcess) -> str:
    return result.stdout[result.stdout.index("short test summary info"):]


def test_under_ci_each_probe_fails_the_run_and_the_rest_still_runs(tmp_path):
    result = run_probe(tmp_path, {**PROBES, "passing": PASSING}, ci=True)
    assert result.returncode != 0, result.stdout
    assert summary(result).startswith("=") and "4 failed, 1 passed, 2 errors" in summary(result), result.stdout
    assert not re.search(r"\d+ (skipped|xfailed|xpassed)", summary(result)), result.stdout
    lines = short_summary(result).splitlines()
    for probe in PROBES:
        kind = "ERROR" if probe.startswith("module_") else "FAILED"
        line = next((line for line in lines if line.startswith(f"{kind} test_{probe}.py")), None)
        assert line is not None and "under CI=true, which counts as a failure" in line, (probe, result.stdout)
    assert any(line.startswith("PASSED test_passing.py") for line in lines)  # collection errors did not stop the run


def test_without_ci_each_probe_is_reported_as_pytest_reports_it_and_the_run_passes(tmp_path):
    result = run_probe(tmp_path, {**PROBES, "passing": PASSING}, ci=False)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 3 skipped, 2 xfailed, 1 xpassed" in summary(result), result.stdout
    assert "counts as a failure" not in result.stdout
    lines = short_summary(result).splitlines()
    for probe, outcome in EXPECTED_LOCALLY.items():
        assert any(line.startswith(outcome) and f"test_{probe}.py" in line for line in lines), (probe, result.stdout)


def test_the_suite_loads_the_plugin():
    assert "tests.support.strict_ci" in tests.conftest.pytest_plugins


def test_ci_run_sets_ci_itself():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^export CI=true$", script, re.M), script
