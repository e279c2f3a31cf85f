"""`pipulate run` and `pipulate runs`: a workflow headless, on the app's own data."""

from __future__ import annotations

from tests._workflows.support import install_samples
from tests.support.cli import assert_one_line_error, run_cli


def run(tmp_path, *args, timeout=60):
    return run_cli(*args, "--data-dir", str(tmp_path / "data"), cwd=tmp_path, timeout=timeout)


def test_a_workflow_runs_to_the_end_with_progress_and_jobs(tmp_path):
    install_samples(tmp_path)
    done = run(tmp_path, "run", "slow-count", "--set", "units=3", "--set", "seconds=0.01")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "run default-slow-count-01"
    assert "slow: 3/3 unit 3" in done.stdout and "after: done" in done.stdout
    assert "run default-slow-count-01 is complete" in done.stdout
    listed = run(tmp_path, "runs")
    assert listed.returncode == 0 and "default-slow-count-01" in listed.stdout and "complete" in listed.stdout


def test_fields_with_defaults_need_no_set_and_a_missing_one_is_named(tmp_path):
    install_samples(tmp_path)
    assert run(tmp_path, "run", "slow-count", "--set", "seconds=0").returncode == 0  # units: its default
    waiting = run(tmp_path, "run", "chain")
    assert waiting.returncode == 3
    assert "“Pick words” (pick) needs words" in waiting.stderr and "--key default-chain-01" in waiting.stderr
    carried = run(tmp_path, "run", "chain", "--key", "default-chain-01", "--set", "words=a", "--set", "words=b",
                  "--set", "shout.times=2", "--set", "note=n")
    assert carried.returncode == 0, carried.stderr


def test_bad_input_is_one_line_and_changes_nothing(tmp_path):
    install_samples(tmp_path)
    assert_one_line_error(run(tmp_path, "run", "nope"), code=2, mentions="no workflow named 'nope'")
    assert_one_line_error(run(tmp_path, "run", "chain", "--set", "bogus=1"), code=2, mentions="no step of chain has a field 'bogus'")
    assert_one_line_error(run(tmp_path, "run", "chain", "--set", "x"), code=2, mentions="NAME=VALUE")
    assert_one_line_error(run(tmp_path, "run", "slow-count", "--set", "units=0"), code=2, mentions="Units must be at least 1.")
    assert_one_line_error(run(tmp_path, "run", "chain", "--key", "default-chain-42"), code=2, mentions="No such run")
    assert "no runs" in run(tmp_path, "runs").stdout  # none of those started a run


def test_a_failing_step_exits_1_naming_it(tmp_path):
    install_samples(tmp_path)
    failed = run(tmp_path, "run", "big-table", "--set", "count=13")
    assert_one_line_error(failed, code=1, mentions="thirteen rows are unlucky")
