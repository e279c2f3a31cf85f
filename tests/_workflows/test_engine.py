"""The engine through the public test helper (no browser, no server): submit, advance, revert,
reuse, finalize, failures, and tables as files."""

from __future__ import annotations

import pytest

from pipulate import NotFound, UserError
from pipulate.testing import FieldError, StepFailed, StepNeedsInput, workflow_tester
from tests.support.plugins.sample_workflows import CALLS, BigTable, Chain, Kinds


@pytest.fixture
def chain(tmp_path):
    CALLS.clear()
    with workflow_tester(Chain, Kinds, BigTable, data_dir=tmp_path / "data") as app:
        yield app


def statuses(run) -> dict:
    return {s["step"]: s["status"] for s in run.steps()}


def test_a_run_waits_for_input_then_runs_what_needs_none(chain):
    run = chain.start("chain")
    assert run.key == "default-chain-01"
    assert statuses(run) == {"pick": "pending", "joined": "pending", "shout": "pending", "independent": "pending"}
    run.submit("pick", words="alpha\nbeta\ngamma", count="2")
    # "joined" has no fields, so it ran by itself; "shout" waits for its form.
    assert statuses(run) == {"pick": "done", "joined": "done", "shout": "pending", "independent": "pending"}
    assert run.result("joined") == "alpha beta"
    with pytest.raises(StepNeedsInput, match="Shout") as waiting:
        run.run_all()
    assert waiting.value.step == "shout"
    run.submit("shout", times=2)
    run.submit("independent")
    assert run.status == "complete" and run.result("shout") == "ALPHA BETA!ALPHA BETA"


def test_reverting_a_step_makes_its_dependents_stale_and_reruns_those_that_can(chain):
    run = chain.start("chain")
    run.submit("pick", words="a\nb\nc").submit("shout", times=1).submit("independent", note="x")
    CALLS.clear()
    run.submit("pick", words="a\nb\nc", count=3)  # a change: joined and shout depend on it
    assert statuses(run) == {"pick": "done", "joined": "done", "shout": "done", "independent": "done"}
    assert run.result("shout") == "A B C"
    assert CALLS == {"pick": 1, "joined": 1, "shout": 1}  # "independent" was not recomputed


def test_the_same_inputs_again_recompute_nothing(chain):
    run = chain.start("chain")
    run.submit("pick", words="a\nb").submit("shout").submit("independent")
    CALLS.clear()
    run.submit("pick", words="a\nb")
    assert CALLS == {} and run.status == "complete"


def test_a_step_that_raises_fails_with_its_message_and_keeps_earlier_results(chain):
    run = chain.start("big-table")
    run.submit("rows", count=3)
    assert run.result("summary") == {"rows": 3, "last": 2}
    run.submit("rows", count=13)
    steps = {s["step"]: s for s in run.steps()}
    assert steps["rows"]["status"] == "failed" and steps["rows"]["error"] == "ValueError: thirteen rows are unlucky"
    assert steps["summary"]["status"] == "stale"  # computed from rows that are no longer current
    with pytest.raises(StepFailed, match="unlucky"):
        run.run_all()
    run.submit("rows", count=4)
    assert run.result("summary") == {"rows": 4, "last": 3} and run.status == "complete"


def test_bad_values_store_nothing(chain):
    run = chain.start("kinds")
    with pytest.raises(FieldError) as refused:
        run.submit("fields", title="", pages="0")
    assert set(refused.value.errors) == {"title", "pages"}
    assert statuses(run) == {"fields": "pending"} and run.view().row("fields").inputs == {}


def test_finalize_locks_and_unfinalize_unlocks(chain):
    run = chain.start("chain")
    run.submit("pick", words="a").submit("shout").submit("independent")
    run.finalize()
    assert run.status == "finalized"
    with pytest.raises(UserError, match="finalized") as refused:
        run.submit("pick", words="b")
    assert refused.value.status_code == 409
    assert run.result("pick") == ["a"]
    run.finalize(False)
    run.submit("pick", words="b")
    assert run.result("shout") == "B"


def test_unknown_steps_runs_and_workflows_are_404(chain):
    run = chain.start("chain")
    with pytest.raises(NotFound):
        run.submit("nope", x=1)
    with pytest.raises(NotFound):
        chain.open("default-chain-99")
    with pytest.raises(NotFound):
        chain.open("../../etc/passwd")
    with pytest.raises(NotFound):
        chain.start("nope")


def test_a_large_table_is_a_file_previewed_page_by_page(chain, tmp_path):
    from pipulate._workflows.results import csv_chunks, preview, write_xlsx

    run = chain.start("big-table")
    run.submit("rows", count=200_000)
    row = run.view().row("rows")
    assert row.result_kind == "file" and row.result_info["rows"] == 200_000
    assert row.result_info["columns"] == ["n", "square", "label", "formula"]
    path = chain.engine.run_dir(run.key) / row.result_info["file"]
    assert path.name == "rows.parquet" and path.stat().st_size < 4_000_000
    first, later = preview(path, 1, 50), preview(path, 2345, 50)
    assert first.rows[0] == [0, 0, "row 0", "=1+1"] and len(first.rows) == 50 and first.pages == 4000
    assert later.rows[0][0] == 2344 * 50 and later.rows[-1][0] == 2345 * 50 - 1
    assert preview(path, 999_999, 50).number == 4000  # past the end: the last page
    text = b"".join(csv_chunks(path)).decode("utf-8-sig").splitlines()
    assert len(text) == 200_001 and text[0] == "n,square,label,formula" and text[1] == "0,0,row 0,'=1+1"
    assert text[-1] == "199999,39999600001,row 199999,"
    from openpyxl import load_workbook

    workbook = load_workbook(write_xlsx(path, tmp_path / "rows.xlsx", "rows"), read_only=True)
    rows = workbook["rows"].iter_rows()
    header, first_row = next(rows), next(rows)
    assert [c.value for c in header] == ["n", "square", "label", "formula"] and header[0].font.b
    assert [c.value for c in first_row] == [0, 0, "row 0", "=1+1"]
    assert first_row[3].data_type == "s"  # text from data stays text, never a formula
    assert sum(1 for _ in rows) == 200_000 - 1  # every row
    # The next step received it as it was returned: a list of dicts.
    assert run.result("summary") == {"rows": 200_000, "last": 199_999}
    assert run.table("rows").num_rows == 200_000


def test_a_steps_code_change_recomputes_it_on_revert(tmp_path):
    """Same inputs, new code: the result is computed again (the code's digest is part of it)."""
    from pipulate import Workflow, step

    def make(version: int):
        source = f"def count(n: int = 1) -> int:\n    return n * {version}\n"
        namespace = {}
        exec(compile(source, f"<count v{version}>", "exec"), namespace)
        counted = step(namespace["count"])

        class Counter(Workflow):
            name = "counter"
            steps = (counted,)

        return Counter

    with workflow_tester(make(1), data_dir=tmp_path / "data") as app:
        run = app.start("counter").submit("count", n=5)
        assert run.result("count") == 5
        run.submit("count", n=5)
        assert run.result("count") == 5
    with workflow_tester(make(10), data_dir=tmp_path / "data") as app:
        run = app.open("default-counter-01").submit("count", n=5)
        assert run.result("count") == 50


def test_the_job_engine_is_not_loaded_until_a_job_needs_it(tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from starlette.testclient import TestClient\n"
        "from pipulate import Settings, create_app\n"
        f"app = create_app(Settings(data_dir=Path({str(tmp_path / 'data')!r}), plugin_dirs=()))\n"
        "with TestClient(app, base_url='http://127.0.0.1:5001') as client:\n"
        "    assert client.get('/tasks').status_code == 200\n"
        "    key = client.post('/tasks/runs', headers={'HX-Request': 'true'}).headers['HX-Push-Url'].rsplit('/', 1)[1]\n"
        "    assert 'dbos' not in sys.modules and 'pyarrow' not in sys.modules, 'loaded before a job'\n"
        "    client.post(f'/tasks/runs/{key}/steps/count', data={'steps': '1', 'seconds_per_step': '0'}, headers={'HX-Request': 'true'})\n"
        "    assert 'dbos' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_job_engine_is_configured_quiet_and_offline(tmp_path):
    from pipulate._workflows.jobs import APPLICATION_VERSION, Jobs

    config = Jobs(tmp_path / "app.db", tmp_path / "runs", {}).config()
    assert config["application_version"] == APPLICATION_VERSION  # fixed: a reload keeps jobs recoverable
    assert config["log_level"] == "WARNING" and config["enable_otlp"] is False and "conductor_key" not in config
    assert config["system_database_url"].startswith("sqlite:///") and config["system_database_url"].endswith("app-jobs.sqlite")
