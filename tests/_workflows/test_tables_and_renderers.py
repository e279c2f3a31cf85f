"""Several tables from one step (`Tables`), a renderer that takes the run, a resumable job's
Pause/Resume, and plugins left out by `disabled_plugins`."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fasthtml.common import A, to_xml

from pipulate import Job, Tables, Workflow, step
from pipulate._plugins import discover_plugins
from pipulate._workflows.render import running, step_card
from pipulate._workflows.render_results import result_view
from pipulate._workflows.results import ResultError, store_result
from pipulate.testing import workflow_tester


@step("Many tables")
def many() -> Tables:
    return Tables({"note": "two tables"}, letters=[{"letter": "a"}, {"letter": "b"}], numbers=pa.table({"n": [1, 2, 3]}))


@step("Uses them", render=lambda result, run: A("numbers", href=run.download("numbers", "csv")))
def uses(many: Tables) -> dict:
    return {"value": many.value["note"], "rows": many.read("numbers").num_rows, "file": Path(many["letters"]).name}


@step("Streamed", job=True, resumable=True)
def streamed(job: Job) -> Tables:
    path = Path(job.folder) / "big.parquet"
    pq.write_table(pa.table({"i": list(range(1000))}), path)
    return Tables(None, big=path)


class TablesFlow(Workflow):
    name = "tables-flow"
    steps = (many, uses, streamed)


def test_a_step_returns_several_tables_each_stored_on_its_own(tmp_path):
    with workflow_tester(TablesFlow, data_dir=tmp_path / "data") as app:
        run = app.start("tables-flow")
        run.run_all()
        assert run.result("uses") == {"value": "two tables", "rows": 3, "file": "many.letters.parquet"}
        assert run.table("many", "letters").to_pylist() == [{"letter": "a"}, {"letter": "b"}]
        assert run.table("streamed", "big").num_rows == 1000
        folder = tmp_path / "data" / "runs" / run.key
        assert not (folder / "big.parquet").exists()  # moved into place, not copied
        assert (folder / "streamed.big.parquet").is_file()
        row = run.app.engine.store.step(run.key, "many")
        assert row.result_kind == "tables" and row.result == {"note": "two tables"}
        assert row.result_info["tables"]["numbers"]["rows"] == 3
        spec = TablesFlow.step_specs[0]
        html = to_xml(result_view(TablesFlow, run.key, spec, row))
        assert "two tables" in html and "download.parquet?table=letters" in html and "preview?table=numbers&amp;page=1" in html
        # A renderer with two parameters gets the run: its key, its URLs, its tables' downloads.
        uses_row = run.app.engine.store.step(run.key, "uses")
        html = to_xml(result_view(TablesFlow, run.key, TablesFlow.step_specs[1], uses_row))
        assert f"/tables-flow/runs/{run.key}/steps/uses/download.csv?table=numbers" in html


def test_tables_refuse_what_they_cannot_store(tmp_path):
    with pytest.raises(ResultError, match="at least one table"):
        store_result(tmp_path, "s", Tables({"x": 1}))
    with pytest.raises(ResultError, match="DataFrame, an Arrow table"):
        store_result(tmp_path, "s", Tables(None, bad=object()))
    (tmp_path / "not.parquet").write_text("nope")
    with pytest.raises(ResultError, match="not a readable Parquet file"):
        store_result(tmp_path, "s", Tables(None, bad=tmp_path / "not.parquet"))


def test_a_resumable_job_says_pause_and_resume(tmp_path):
    from pipulate._workflows.engine import RunView
    from pipulate._workflows.store import CANCELLED, RUNNING, RunRow, StepRow

    spec = TablesFlow.step_specs[2]
    run = RunRow("default-tables-flow-01", 1, "tables-flow", 1, False, 0.0, 0.0)
    view = RunView(run, TablesFlow.step_specs, {s.id: StepRow(run.key, s.id) for s in TablesFlow.step_specs})
    view.rows["streamed"].status = RUNNING
    assert ">Pause<" in to_xml(running(TablesFlow, view, spec))
    view.rows["streamed"].status, view.rows["streamed"].error = CANCELLED, "Cancelled."
    html = to_xml(step_card(TablesFlow, view, 3, spec, False))
    assert "Paused. Resume continues where it stopped." in html and ">Resume<" in html


def test_disabled_plugins_are_not_loaded():
    names = {cls.name for cls in discover_plugins()}
    assert "seo-crawl" in names  # the SEO package, found by its entry point
    without = {cls.name for cls in discover_plugins(disabled=("seo",))}
    assert "seo-crawl" not in without and "todos" in without
    assert "todos" not in {cls.name for cls in discover_plugins(disabled=("todos",))}
