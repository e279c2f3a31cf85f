"""The run store: readable keys, runs found only within their profile, steps that round-trip."""

from __future__ import annotations

import pytest

from pipulate import NotFound, open_database
from pipulate._workflows.store import PENDING, RUNNING, RunStore, StepRow, step_row_id


@pytest.fixture
def store(tmp_path):
    return RunStore(open_database(tmp_path / "app.db"))


def test_keys_name_the_profile_and_the_workflow_and_count_up(store):
    first = store.create_run("hello", 1, "Ada Lovelace")
    second = store.create_run("hello", 1, "Ada Lovelace")
    other = store.create_run("crawl", 1, "Ada Lovelace")
    assert (first.key, second.key, other.key) == ("ada-lovelace-hello-01", "ada-lovelace-hello-02", "ada-lovelace-crawl-01")
    assert (first.number, second.number, first.finalized) == (1, 2, False)
    assert first.created_at > 0 and first.updated_at >= first.created_at


def test_a_key_taken_by_another_profile_of_the_same_name_is_not_reused(store):
    store.create_run("hello", 1, "Default")
    assert store.create_run("hello", 2, "Default").key == "default-hello-02"


def test_a_run_is_found_only_in_its_profile_and_workflow(store):
    run = store.create_run("hello", 1, "Default")
    assert store.run(run.key, 1) == run and store.run(run.key, 1, "hello") == run
    for key, profile, workflow in [(run.key, 2, None), (run.key, 1, "crawl"), ("default-hello-99", 1, None)]:
        with pytest.raises(NotFound, match="No such run"):
            store.run(key, profile, workflow)
    for bad in ("", "../etc", "DEFAULT-HELLO-01", "a" * 300, 5, None, "default-hello-1", "default hello 01"):
        with pytest.raises(NotFound):
            store.run(bad, 1)


def test_runs_are_listed_newest_first_per_profile_and_workflow(store):
    first = store.create_run("hello", 1, "Default")
    second = store.create_run("crawl", 1, "Default")
    store.create_run("hello", 2, "Other")
    store.touch(first.key)  # the most recently changed comes first
    assert [r.key for r in store.list_runs(1)] == [first.key, second.key]
    assert [r.key for r in store.list_runs(1, "crawl")] == [second.key]
    assert store.runs_of_profile(2) == ["other-hello-01"]


def test_a_step_row_round_trips_every_field(store):
    run = store.create_run("hello", 1, "Default")
    assert store.step(run.key, "greeting") == StepRow(run.key, "greeting")  # not stored yet: pending
    row = StepRow(run.key, "greeting", status=RUNNING, inputs={"name": "Ada", "tags": ["a", "b"]}, result={"n": 1},
                  result_kind="value", result_info={"rows": 3}, result_digest="r", inputs_digest="i", code_digest="c",
                  error="e", job_id=f"{run.key}/greeting/2", attempt=2, progress_done=3, progress_total=9,
                  progress_note="n", model="m", prompt="p", started_at=1.5, finished_at=2.5)
    store.save_step(row)
    again = store.step(run.key, "greeting")
    assert {k: v for k, v in vars(again).items() if k != "updated_at"} == {k: v for k, v in vars(row).items() if k != "updated_at"}
    assert again.updated_at > 0 and again.has_result
    assert store.steps_of(run.key) == {"greeting": again}
    assert store.running_steps() == [again]
    assert step_row_id(run.key, "greeting") == f"{run.key}/greeting"


def test_deleting_a_run_deletes_its_steps_only(store):
    kept, gone = store.create_run("hello", 1, "Default"), store.create_run("hello", 1, "Default")
    for run in (kept, gone):
        store.save_step(StepRow(run.key, "greeting", status=PENDING, inputs={"name": run.key}))
    store.delete_run(gone.key)
    assert [r.key for r in store.list_runs(1)] == [kept.key]
    assert store.steps_of(gone.key) == {} and list(store.steps_of(kept.key)) == ["greeting"]


def test_unreadable_json_in_a_row_reads_as_empty_not_an_error(store):
    run = store.create_run("hello", 1, "Default")
    store.save_step(StepRow(run.key, "greeting", inputs={"a": 1}))
    store.db.execute("UPDATE workflow_steps SET inputs = '{not json', result = '' WHERE run_key = ?", [run.key])
    row = store.step(run.key, "greeting")
    assert row.inputs == {} and row.result is None


class Recording:
    """A fastlite table that also keeps every record written through it."""

    def __init__(self, table):
        self.table, self.written = table, []

    def __call__(self, *args, **kwargs):
        return self.table(*args, **kwargs)

    def __getattr__(self, name):
        write = getattr(self.table, name)
        if name not in ("insert", "update", "upsert"):
            return write

        def recorded(record, *args, **kwargs):
            self.written.append(dict(record))
            return write(record, *args, **kwargs)

        return recorded


def declared_columns(name: str) -> set[str]:
    from pipulate._database import CORE_TABLES

    return set(next(table for table in CORE_TABLES if table.name == name).columns)


def test_rows_are_written_under_the_declared_column_names(store):
    """Every record names the declared columns exactly. SQLite would take "RUN_KEY" for run_key,
    but the page, a notebook and the command line share these rows as dicts, and a server database
    (PostgreSQL) quotes names with their case."""
    store.runs, store.steps = Recording(store.runs), Recording(store.steps)
    run = store.create_run("hello", 1, "Default")
    store.save_step(StepRow(run.key, "greeting", inputs={"name": "Ada"}))
    store.touch(run.key, finalized=True)
    assert [set(record) for record in store.runs.written[:1]] == [declared_columns("workflow_runs")]
    assert all(set(record) <= declared_columns("workflow_runs") for record in store.runs.written)
    assert [set(record) for record in store.steps.written] == [declared_columns("workflow_steps")]
    # What was written under those names reads back as written.
    assert store.run(run.key, 1).finalized is True
    assert store.step(run.key, "greeting").inputs == {"name": "Ada"}


def test_a_key_in_the_middle_deleted_is_not_given_again(store):
    """The next key counts on from the highest one, so a deleted run's bookmark never opens a newer run
    while a later run exists."""
    keys = [store.create_run("hello", 1, "Default").key for _ in range(3)]
    store.delete_run(keys[1])
    assert store.create_run("hello", 1, "Default").key == "default-hello-04"


def test_a_malformed_key_is_named_in_the_answer_cut_to_60_characters(store):
    with pytest.raises(NotFound) as bad:
        store.run("Bad Key!", 1)
    assert str(bad.value) == "No such run: 'Bad Key!'."
    with pytest.raises(NotFound) as long:
        store.run("x" * 61 + "-hello", 1)
    assert str(long.value) == f"No such run: {'x' * 60!r}."


def test_rows_with_empty_columns_read_as_the_defaults(store):
    """A row written by an older version (its new columns are NULL after the migration adds them)
    reads as a fresh step or run, never as None or a made-up value."""
    store.db.execute("INSERT INTO workflow_runs (key, profile_id, workflow, number) VALUES ('default-hello-01', 1, 'hello', 1)")
    store.db.execute("INSERT INTO workflow_steps (id, run_key, step) VALUES ('default-hello-01/greeting', 'default-hello-01', 'greeting')")
    store.db.execute("UPDATE workflow_steps SET status = NULL, attempt = NULL")  # the declared defaults, gone too
    run = store.run("default-hello-01", 1)
    assert (run.finalized, run.created_at, run.updated_at) == (False, 0.0, 0.0)
    assert store.step("default-hello-01", "greeting") == StepRow("default-hello-01", "greeting")
    assert store.steps_of("default-hello-01") == {"greeting": StepRow("default-hello-01", "greeting")}


def test_the_store_reads_dicts_even_when_someone_made_its_tables_dataclasses(store):
    """`db.t.workflow_runs.dataclass()` (FastHTML's idiom, in a notebook on the same database) makes
    fastlite return objects from that table for everyone; the store asks for dicts every time."""
    run = store.create_run("hello", 1, "Default")
    store.save_step(StepRow(run.key, "greeting", status=RUNNING))
    store.db.t.workflow_runs.dataclass()
    store.db.t.workflow_steps.dataclass()
    assert store.create_run("hello", 1, "Default").key == "default-hello-02"
    assert store.run(run.key, 1).key == run.key
    assert [r.key for r in store.list_runs(1)] == ["default-hello-02", run.key]  # newest first
    assert sorted(store.runs_of_profile(1)) == [run.key, "default-hello-02"]
    assert store.step(run.key, "greeting").status == RUNNING
    assert list(store.steps_of(run.key)) == ["greeting"]
    assert [row.step for row in store.running_steps()] == ["greeting"]
