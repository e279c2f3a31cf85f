"""The database: one file, declared tables, migration of an existing file in place."""

import apsw
import pytest

from pipulate import Table, create_app, migrate, open_database
from pipulate._database import CORE_TABLES


def test_open_creates_parent_folders_and_wal(tmp_path):
    db = open_database(tmp_path / "a" / "b" / "c" / "app.db")
    assert (tmp_path / "a" / "b" / "c" / "app.db").exists()
    assert db.execute("PRAGMA journal_mode").fetchall()[0][0] == "wal"


def test_migrate_creates_tables(tmp_path):
    db = open_database(tmp_path / "app.db")
    migrate(db, [*CORE_TABLES, Table("notes", {"id": int, "text": str})])
    assert {"store", "profiles", "notes"} <= set(db.table_names())


def test_tables_declared_twice_are_refused(tmp_path):
    db = open_database(tmp_path / "app.db")
    with pytest.raises(ValueError, match="declared twice"):
        migrate(db, [Table("x", {"id": int}), Table("x", {"id": int, "y": str})])


def test_old_file_with_a_missing_column_is_migrated_in_place(tmp_path, settings):
    """A database from an older version (todos without `position` and `done`) keeps its rows."""
    path = settings.database_path
    path.parent.mkdir(parents=True)
    old = apsw.Connection(str(path))
    old.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT)")
    old.execute("INSERT INTO profiles (id, name) VALUES (1, 'Old profile')")
    old.execute("CREATE TABLE todos (id INTEGER PRIMARY KEY, profile_id INTEGER, title TEXT)")
    old.execute("INSERT INTO todos (id, profile_id, title) VALUES (7, 1, 'kept from before')")
    old.close()

    app = create_app(settings)
    db = app.state.core.db
    columns = {column.name for column in db.t.todos.columns}
    assert {"position", "done"} <= columns
    assert "position" in {column.name for column in db.t.profiles.columns}
    rows = db.execute("SELECT id, profile_id, title, done FROM todos").fetchall()
    assert rows == [(7, 1, "kept from before", 0)]

    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1:5001") as client:
        page = client.get("/todos")
        assert page.status_code == 200
        assert "kept from before" in page.text
        assert "Old profile" in page.text
        toggled = client.post("/todos/7/toggle", headers={"HX-Request": "true"})
        assert toggled.status_code == 200 and "done" in toggled.text


def test_everything_lives_in_one_file_named_after_the_brand(tmp_path):
    from pipulate import Settings

    settings = Settings(app_name="Acme Tools", data_dir=tmp_path / "data", plugin_dirs=())
    create_app(settings)
    assert sorted(p.name for p in (tmp_path / "data").glob("*.db")) == ["acme-tools.db"]


def test_synchronous_follows_the_setting(tmp_path):
    # NORMAL (1) by default: WAL keeps commits across a kill (tests/system/test_durability.py).
    assert open_database(tmp_path / "a.db").execute("PRAGMA synchronous").fetchall()[0][0] == 1
    assert open_database(tmp_path / "b.db", "full").execute("PRAGMA synchronous").fetchall()[0][0] == 2


def test_the_apps_connection_has_the_synchronous_level_of_its_settings(tmp_path):
    from pipulate import Settings

    for synchronous, level in (("normal", 1), ("full", 2)):
        settings = Settings(data_dir=tmp_path / synchronous, plugin_dirs=(), synchronous=synchronous)
        db = create_app(settings).state.core.db
        assert db.execute("PRAGMA synchronous").fetchall() == [(level,)]
