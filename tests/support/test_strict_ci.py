"""The probe for tests/support/strict_ci.py: pytest run in a subprocess on small test files, with
and without CI=true. Under CI a module skipped at collection, a skipped test, an xfail and an xpass
each make the run fail; without CI they are reported as pytest reports them and the run passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
LOCAL_OUTCOME = {
    "module_skip": "1 skipped",
    "module_importorskip": "1 skipped",
    "skip_in_test": "1 skipped",
    "xfail": "1 xfailed",
    "xpass": "1 xpassed",
    "imperative_xfail": "1 xfailed",
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


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_under_ci_the_probe_fails_the_run(tmp_path, probe):
    result = run_probe(tmp_path, {probe: PROBES[probe], "passing": PASSING}, ci=True)
    assert result.returncode != 0, result.stdout
    assert "under CI=true, which counts as a failure" in result.stdout, result.stdout
    assert not re.search(r"\d+ (skipped|xfailed|xpassed)", summary(result)), result.stdout
    if probe.startswith("module_"):
        assert "1 error" in summary(result), result.stdout
    else:
        assert "1 failed" in summary(result), result.stdout
    assert "1 passed" in summary(result), result.stdout  # the rest of the suite still ran


@pytest.mark.parametrize("probe", sorted(PROBES))
def test_without_ci_the_probe_is_reported_and_the_run_passes(tmp_path, probe):
    result = run_probe(tmp_path, {probe: PROBES[probe], "passing": PASSING}, ci=False)
    assert result.returncode == 0, result.stdout
    assert LOCAL_OUTCOME[probe] in summary(result) and "1 passed" in summary(result), result.stdout
    assert "counts as a failure" not in result.stdout


def test_the_suite_loads_the_plugin():
    assert "tests.support.strict_ci" in tests.conftest.pytest_plugins


def test_ci_run_sets_ci_itself():
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^export CI=true$", script, re.M), script
