"""tests/support/timing.py and tests/support/timeouts.py: one factor stretches every time bound,
polling waits for a condition, and a hung test stops at the (scaled) pytest-timeout limit with a
clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.timing import FACTOR_VARIABLE, ms, poll, scaled, time_factor

ROOT = Path(__file__).resolve().parents[2]


def test_the_factor_defaults_to_one_and_stretches_every_bound(monkeypatch):
    monkeypatch.delenv(FACTOR_VARIABLE, raising=False)
    assert time_factor() == 1 and scaled(5) == 5 and ms(2) == 2000
    monkeypatch.setenv(FACTOR_VARIABLE, "2.5")
    assert scaled(4) == 10 and ms(2) == 5000


@pytest.mark.parametrize("bad", ["two", "0", "-1", "1000"])
def test_a_bad_factor_is_refused_by_name(monkeypatch, bad):
    monkeypatch.setenv(FACTOR_VARIABLE, bad)
    with pytest.raises(ValueError, match=FACTOR_VARIABLE):
        scaled(1)


def test_poll_returns_the_first_truthy_value_and_fails_naming_what_it_waited_for(monkeypatch):
    monkeypatch.delenv(FACTOR_VARIABLE, raising=False)
    calls = []
    assert poll(lambda: calls.append(1) or (len(calls) >= 3 and "ready"), 5) == "ready"
    assert len(calls) == 3
    started = time.monotonic()
    with pytest.raises(AssertionError, match="within 0.2 s: the moon is blue"):
        poll(lambda: False, 0.2, "the moon is blue")
    assert 0.2 <= time.monotonic() - started < 0.2 + scaled(2)


def test_a_hung_test_stops_at_the_scaled_limit_with_a_clear_message(tmp_path):
    (tmp_path / "test_hangs.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(60)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_TIMEOUT")}
    env.update(PYTHONPATH=str(ROOT), **{FACTOR_VARIABLE: "2"})
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.support.timeouts", "-p", "no:cacheprovider",
         "-o", "timeout=1", "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=scaled(60),
    )
    assert result.returncode == 1, result.stdout
    assert "timeout: 2.0s" in result.stdout  # the ini's 1 s, times the factor
    assert "Timeout (>2.0s) from pytest-timeout" in result.stdout, result.stdout
    assert "1 failed" in result.stdout
    assert time.monotonic() - started < scaled(30)  # not the 60 s the test would have slept
