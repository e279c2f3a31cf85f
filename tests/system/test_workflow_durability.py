"""A background step survives a kill: the server is killed with SIGKILL in the middle of a job of
50 checkpoints and started again; the job resumes after its last checkpoint (not from zero),
ends with the right result, the following step runs by itself, and the page shows it.

Run twice: with the default SQLite job store, and with a real PostgreSQL (the team mode).
"""

from __future__ import annotations

import signal

from tests._workflows.support import install_samples, new_run, step_states, submit, wait_for_state
from tests.support.plugins.sample_workflows import trace_lines
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import poll

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
            poll(lambda: len(trace_lines(trace)) >= 20, 30, "the job did not get going")
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


def test_a_live_reload_mid_job_does_not_lose_it(tmp_path):
    """`pipulate serve --live` restarts the server when a plugin changes: the job goes on."""
    install_samples(tmp_path)
    trace = tmp_path / "trace.txt"
    server = start_server(tmp_path / "data", "--live", cwd=tmp_path, env={"PIPULATE_TEST_TRACE": str(trace)})
    try:
        with server.client() as client:
            key = new_run(client, "slow-count")
            submit(client, "slow-count", key, "setup", units="40", seconds="0.1")
            poll(lambda: len(trace_lines(trace)) >= 10, 30, "the job did not get going")
            plugin = tmp_path / "plugins" / "sample_workflows.py"
            plugin.write_text(plugin.read_text() + "\n# edited while a job runs\n")  # the reloader restarts
            html = wait_for_state(client, "slow-count", key, "after", ("done",), timeout=90)
            assert "total 820" in html  # 1 + ... + 40
    finally:
        server.stop()
    units = trace_lines(trace)
    assert sorted(set(units)) == list(range(1, 41)) and len(units) <= 41
    assert "Traceback" not in server.log()


def test_changing_a_step_while_a_later_step_runs_its_job_is_refused(tmp_path):
    install_samples(tmp_path)
    server = start_server(tmp_path / "data", cwd=tmp_path)
    try:
        with server.client() as client:
            key = new_run(client, "slow-count")
            submit(client, "slow-count", key, "setup", units="100", seconds="0.05")
            refused = client.post(f"/slow-count/runs/{key}/steps/setup", data={"units": "5"}, headers={"HX-Request": "true"})
            assert refused.status_code == 409 and "depends on this step and is running: cancel it first" in refused.text
            assert client.get(f"/slow-count/runs/{key}/steps/setup/edit", headers={"HX-Request": "true"}).status_code == 409
            assert step_states(client.get(f"/slow-count/runs/{key}/body", headers={"HX-Request": "true"}).text)["slow"] == "running"
            cancelled = client.post(f"/slow-count/runs/{key}/steps/slow/cancel", headers={"HX-Request": "true"})
            assert step_states(cancelled.text)["slow"] == "cancelled"
            changed = submit(client, "slow-count", key, "setup", units="3", seconds="0")
            assert step_states(changed)["setup"] == "done"
            html = wait_for_state(client, "slow-count", key, "after", ("done",), timeout=30)
            assert "total 6" in html
    finally:
        server.stop()
    assert "Traceback" not in server.log()
