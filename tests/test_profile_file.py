"""A profile as one file: exported from one app and imported into another (or the same) with its
todos, chat, settings, workflow runs and their result files; a file that is not one is refused
before anything is written."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

import pipulate
from pipulate import Settings, UserError, create_app
from pipulate._profile_file import export_profile, import_profile
from tests.support.database import query

PLUGINS = Path(__file__).parent / "support" / "plugins"


def app_in(folder: Path):
    (folder / "plugins").mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGINS / "sample_workflows.py", folder / "plugins")
    return create_app(Settings(data_dir=folder / "data", plugin_dirs=(folder / "plugins",)))


def fill(folder: Path) -> None:
    """A profile "Ann" with todos, chat, settings and a run whose result is a Parquet file."""
    app = app_in(folder)
    core = app.state.core
    ann = core.profiles.create("Ann")
    for position, title in enumerate(["first", "second **bold**"], 1):
        core.db.execute("INSERT INTO todos (profile_id, title, done, position) VALUES (?, ?, ?, ?)",
                        [ann.id, title, position == 1, position])
    core.chat.history.add(ann.id, "user", "hello")
    core.chat.history.add(ann.id, "assistant", "hi there", "stopped")
    core.profile_settings.update(ann.id, temperature="0.4", theme="dark")
    core.db.close()
    with pipulate.workflows(data_dir=folder / "data", plugin_dirs=[folder / "plugins"], profile="Ann") as notebook:
        run = notebook.start("big-table")
        run.submit("rows", count=5000)  # a table large enough to be kept as a file
        run.run_all(timeout=60)
        assert run.steps()[0]["status"] == "done"


def test_a_profile_travels_whole_to_another_app(tmp_path):
    fill(tmp_path / "one")
    source = app_in(tmp_path / "one").state.core
    ann = next(p for p in source.profiles.all() if p.name == "Ann")
    exported = io.BytesIO()
    export_profile(source, ann.id, exported)
    (key,) = [row[0] for row in source.db.execute("SELECT key FROM workflow_runs").fetchall()]
    source.db.close()
    names = zipfile.ZipFile(exported).namelist()
    assert "profile.json" in names and f"runs/{key}/rows.parquet" in names

    target_app = app_in(tmp_path / "two")
    target = target_app.state.core
    target.profiles.create("Ann")  # the name is taken there: the import gets another
    profile, notes = import_profile(target, exported.getvalue())
    assert profile.name == "Ann (imported)" and notes == []
    database = tmp_path / "two" / "data" / "pipulate.db"
    assert query(database, "SELECT title, done, position FROM todos WHERE profile_id = ? ORDER BY position",
                 [profile.id]) == [("first", 1, 1), ("second **bold**", 0, 2)]
    assert [(m.role, m.content, m.status) for m in target.chat.history.recent(profile.id)] == [
        ("user", "hello", "complete"), ("assistant", "hi there", "stopped")]
    assert target.profile_settings.get(profile.id).temperature == 0.4
    (new_key,) = query(database, "SELECT key FROM workflow_runs WHERE profile_id = ?", [profile.id])[0]
    assert new_key.startswith("ann-imported-big-table-")
    assert query(database, "SELECT id, status, result_kind FROM workflow_steps WHERE run_key = ? AND step = 'rows'",
                 [new_key]) == [(f"{new_key}/rows", "done", "file")]
    parquet = tmp_path / "two" / "data" / "runs" / new_key / "rows.parquet"
    assert parquet.is_file() and parquet.read_bytes() == (tmp_path / "one" / "data" / "runs" / key / "rows.parquet").read_bytes()
    target.db.close()
    # The imported run is a run like any other: the notebook reads its table.
    with pipulate.workflows(data_dir=tmp_path / "two" / "data", plugin_dirs=[tmp_path / "two" / "plugins"],
                            profile=profile.name) as notebook:
        assert len(notebook.open(new_key).table("rows")) == 5000


def exported_zip(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


GOOD = {"format": "pipulate-profile", "version": 1, "profile": {"name": "X"}, "tables": {}, "workflow_runs": []}


@pytest.mark.parametrize("data, message", [
    (b"not a zip", "not an exported profile (it is not a zip file)"),
    (exported_zip({"other.txt": "x"}), "holds “other.txt”"),
    (exported_zip({"profile.json": json.dumps(GOOD), "../evil": "x"}), "holds “../evil”"),
    (exported_zip({"profile.json": json.dumps(GOOD), "runs/../../evil": "x"}), "holds “runs/../../evil”"),
    (exported_zip({"runs/a/b": "x"}), "it has no profile.json"),
    (exported_zip({"profile.json": "{not json"}), "profile.json cannot be read"),
    (exported_zip({"profile.json": "[" * 5000 + "]" * 5000}), "profile.json cannot be read"),
    (exported_zip({"profile.json": json.dumps({**GOOD, "format": "other"})}), "not an exported profile"),
    (exported_zip({"profile.json": json.dumps({**GOOD, "version": 99})}), "exported by a newer version"),
    (exported_zip({"profile.json": json.dumps({**GOOD, "tables": {"todos": "nope"}})}), "todos rows are not in the expected form"),
    (exported_zip({"profile.json": json.dumps({**GOOD, "profile": {"name": "bad\u202ename"}})}), "right-to-left override"),
])
def test_a_file_that_is_not_an_exported_profile_changes_nothing(tmp_path, data, message):
    core = app_in(tmp_path).state.core
    before = [p.name for p in core.profiles.all()]
    with pytest.raises(UserError) as refused:
        import_profile(core, data)
    assert message in refused.value.message
    assert [p.name for p in core.profiles.all()] == before
    assert not (tmp_path / "data" / "runs").exists() or not any((tmp_path / "data" / "runs").iterdir())


def test_rows_of_tables_this_app_lacks_are_left_out_with_a_note(tmp_path):
    core = app_in(tmp_path).state.core
    manifest = {**GOOD, "tables": {"notes": [{"text": "a"}], "todos": [{"title": "t", "done": 0, "position": 1,
                                                                          "colour": "from a newer version"}]}}
    profile, notes = import_profile(core, exported_zip({"profile.json": json.dumps(manifest)}))
    assert notes == ["1 rows of notes, which no app here has, were left out"]
    assert core.db.execute("SELECT title FROM todos WHERE profile_id = ?", [profile.id]).fetchall() == [("t",)]
