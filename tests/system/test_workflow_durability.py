"""A background step survives a kill: the server is killed with SIGKILL in the middle of a job of
50 checkpoints and started again; the job resumes after its last checkpoint (not from zero),
ends with the right result, the following step runs by itself, and the page shows it.

Run twice: with the default SQLite job store, and with a real PostgreSQL (the team mode).
"""

from __future__ import annotations

import signal
import time

from tests._workflows.support import install_samples, new_run, step_states, submit, wait_for_state
from tests.support.plugins.sample_workflows import trace_lines
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import scaled

UNITS = 50


def test_a_job_killed_mid_way_resumes_after_its_last_checkpoint(tmp_path, jobs_database):
    install_samples(tmp_path)
    trace = tmp_path / "trace.txt"  # each unit of work appends its number when it really runs
    env = {"PIPULATE_TEST_TRACE": str(trace), "PIPULATE_JOBS_DATABASE_URL": jobs_database}
    server = start_server(tmp_path / "data", cwd=tmp_path, env=env)
    try:
        with server.client() as client:
            key = new_run(client, "slow-count")
            html = submit(client, "slow-count", key, "setup", units=str(UNITS), seconds="0.1")
            assert step_states(html)["slow"] == "running"
            deadline = time.monotonic() + scaled(30)
            while len(trace_lines(trace)) < 20:
                assert time.monotonic() < deadline, "the job did not get going"
                time.sleep(0.05)
        server.stop(signal.SIGKILL)
        done_before_kill = len(trace_lines(trace))
        assert done_before_kill < UNITS

        server = start_server(tmp_path / "data", cwd=tmp_path, env=env)
        with server.client() as client:
            html = wait_for_state(client, "slow-count", key, "after", ("done",), timeout=60)
            assert "total 1275" in html  # 1 + 2 + ... + 50
            page = client.get(f"/slow-count/runs/{key}")
            assert step_states(page.text) == {"setup": "done", "slow": "done", "after": "done"}
    finally:
        server.stop()
    assert_no_traceback(server)  # the server that resumed the job
    units = trace_lines(trace)
    assert sorted(set(units)) == list(range(1, UNITS + 1))
    # Checkpointed units were not run again; only the one in flight at the kill may have been.
    assert len(units) <= UNITS + 1, f"{len(units) - UNITS} units ran twice: resumed from zero?"
    assert "Traceback" not in server.log()
    jobs_files = list((tmp_path / "data").glob("*-jobs.sqlite"))
    assert bool(jobs_files) == (jobs_database == ""), jobs_files  # PostgreSQL kept them, not a file
