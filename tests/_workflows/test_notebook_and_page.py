"""One database, one state: a run advanced from Python shows in the page, and one advanced in the
page is read back from Python (a notebook beside the running server)."""

from __future__ import annotations

import pipulate
from tests._workflows.support import body, install_samples, new_run, step_states, submit
from tests.support.timing import scaled


def test_python_and_the_page_share_runs(servers, tmp_path):
    install_samples(tmp_path)
    server = servers()
    notebook = pipulate.workflows(data_dir=server.data_dir, plugin_dirs=[tmp_path / "plugins"])
    try:
        # Advanced in Python: the page shows the new steps on reload.
        run = notebook.start("chain")
        run.submit("pick", words=["alpha", "beta"], count=2)
        with server.client() as client:
            page = client.get(f"/chain/runs/{run.key}")
            assert page.status_code == 200
            assert step_states(page.text)["joined"] == "done" and "alpha beta" in page.text

            # Advanced in the page: Python reads it back.
            submit(client, "chain", run.key, "shout", times="2")
            assert run.result("shout") == "ALPHA BETA!ALPHA BETA"
            other = new_run(client, "chain")
            submit(client, "chain", other, "pick", words="from\nthe page")
        assert [r.key for r in notebook.runs("chain")] == [other, run.key]  # newest first
        assert notebook.open(other).result("joined") == "from the page"
        # Tables come back as they were returned; as Arrow on request.
        table_run = notebook.start("big-table")
        table_run.submit("rows", count=5000)
        assert table_run.table("rows").num_rows == 5000 and table_run.result("summary")["rows"] == 5000
        with server.client() as client:
            assert "5,000 rows × 4 columns" in body(client, "big-table", table_run.key)
    finally:
        notebook.close()
    assert "Traceback" not in server.log()


def test_a_job_started_from_python_runs_in_python_and_shows_in_the_page(servers, tmp_path, jobs_database):
    """Also with a PostgreSQL job store shared by the notebook and the server (the team mode)."""
    install_samples(tmp_path)
    server = servers()
    with pipulate.workflows(data_dir=server.data_dir, plugin_dirs=[tmp_path / "plugins"],
                            jobs_database_url=jobs_database) as notebook:
        run = notebook.start("slow-count")
        run.submit("setup", units=5, seconds=0.01)
        run.run_all(timeout=scaled(30))
        assert run.result("after") == "total 15"
    with server.client() as client:
        assert "total 15" in body(client, "slow-count", run.key)
