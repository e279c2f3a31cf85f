"""Migration only adds: unknown columns, values, indexes and triggers stay; ids are never reused;
a database that cannot be migrated is left exactly as it was, with a one-line reason."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import apsw
import pytest

from pipulate import Table, create_app, migrate, open_database
from pipulate._migrate import MigrationError, create_table_sql, sql_literal

NOTES = Table("notes", {"id": int, "profile_id": int, "text": str, "pinned": bool}, defaults={"pinned": False})


def dump(path) -> dict:
    """Every table's schema and rows, read with the stdlib driver (another reader of the file)."""
    with closing(sqlite3.connect(path)) as db:
        objects = db.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
        # sqlite_stat1 may be written by `PRAGMA optimize` when any connection closes: not data.
        objects = [row for row in objects if not row[1].startswith("sqlite_stat")]
        tables = [name for kind, name, _ in objects if kind == "table" and name != "sqlite_sequence"]
        return {
            "schema": objects,
            "rows": {name: sorted(db.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr) for name in tables},
        }


def old_file(path, *statements: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    old = apsw.Connection(str(path))
    for statement in statements:
        old.execute(statement)
    old.close()


def test_new_tables_get_autoincrement_ids(tmp_path):
    db = open_database(tmp_path / "app.db")
    migrate(db, [NOTES])
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchall()[0][0]
    assert "[id] INTEGER PRIMARY KEY AUTOINCREMENT" in sql and "[pinned] INTEGER DEFAULT 0" in sql
    for name in ("profiles", "chat_messages"):
        assert "AUTOINCREMENT" in db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchall()[0][0]


def test_a_deleted_rows_id_is_never_handed_out_again(tmp_path):
    db = open_database(tmp_path / "app.db")
    migrate(db, [NOTES])
    first = db.execute("INSERT INTO notes (text) VALUES ('a') RETURNING id").fetchall()[0][0]
    second = db.execute("INSERT INTO notes (text) VALUES ('b') RETURNING id").fetchall()[0][0]
    db.execute("DELETE FROM notes WHERE id = ?", [second])
    third = db.execute("INSERT INTO notes (text) VALUES ('c') RETURNING id").fetchall()[0][0]
    assert first < second < third


def test_columns_this_version_does_not_know_stay_with_their_values_and_indexes(tmp_path):
    """A newer version's column, or the user's own ALTER TABLE: nothing of it may be lost."""
    path = tmp_path / "app.db"
    old_file(
        path,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, profile_id INTEGER, text TEXT, "
        "colour TEXT NOT NULL DEFAULT 'red', rating REAL)",
        "CREATE INDEX my_colour_index ON notes (colour)",
        "INSERT INTO notes (id, profile_id, text, colour, rating) VALUES (4, 1, 'mine', 'blue', 4.5)",
    )
    before = dump(path)["rows"]["notes"]
    migrate(open_database(path), [NOTES])
    after = dump(path)
    columns = [row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(notes)")]
    assert columns == ["id", "profile_id", "text", "colour", "rating", "pinned"]  # only `pinned` was added
    assert after["rows"]["notes"] == [row + (0,) for row in before]  # old rows read the new default
    assert ("index", "my_colour_index", "CREATE INDEX my_colour_index ON notes (colour)") in after["schema"]


def test_an_old_table_without_autoincrement_is_rebuilt_keeping_everything(tmp_path):
    path = tmp_path / "app.db"
    old_file(
        path,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, profile_id INTEGER, text TEXT NOT NULL CHECK (length(text) < 100), extra BLOB)",
        "CREATE INDEX notes_by_text ON notes (text)",
        "CREATE TABLE audit (note_id INTEGER, what TEXT)",
        "CREATE TRIGGER notes_audit AFTER UPDATE ON notes BEGIN INSERT INTO audit VALUES (new.id, new.text); END",
        "CREATE VIEW note_texts AS SELECT text FROM notes",
        "INSERT INTO notes VALUES (3, 1, 'three', x'00ff'), (9, 1, 'nine', NULL)",
    )
    migrate(open_database(path), [NOTES])
    db = open_database(path)
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchall()[0][0]
    assert "AUTOINCREMENT" in sql and "CHECK (length(text) < 100)" in sql and "extra BLOB" in sql
    assert db.execute("SELECT id, text, extra, pinned FROM notes ORDER BY id").fetchall() == [
        (3, "three", b"\x00\xff", 0), (9, "nine", None, 0)
    ]
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master").fetchall()}
    assert {"notes_by_text", "notes_audit", "note_texts", "audit"} <= names
    db.execute("UPDATE notes SET text = 'changed' WHERE id = 3")  # the trigger still fires
    assert db.execute("SELECT * FROM audit").fetchall() == [(3, "changed")]
    db.execute("DELETE FROM notes WHERE id = 9")
    assert db.execute("INSERT INTO notes (text) VALUES ('new') RETURNING id").fetchall()[0][0] == 10
    assert db.execute("SELECT text FROM note_texts ORDER BY text").fetchall() == [("changed",), ("new",)]


def test_a_rebuild_does_not_fire_other_tables_cascades(tmp_path):
    path = tmp_path / "app.db"
    old_file(
        path,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
        "CREATE TABLE replies (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes(id) ON DELETE CASCADE)",
        "INSERT INTO notes VALUES (1, 'n')",
        "INSERT INTO replies VALUES (1, 1)",
    )
    migrate(open_database(path), [NOTES])
    assert dump(path)["rows"]["replies"] == [(1, 1)]


def test_a_database_that_cannot_be_migrated_is_left_untouched(tmp_path):
    """`notes` is a view in this file: the migration stops, says why, and changes nothing (the
    tables before it in the list are not created either)."""
    path = tmp_path / "app.db"
    old_file(
        path,
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT)",
        "INSERT INTO profiles VALUES (1, 'Old')",
        "CREATE VIEW notes AS SELECT 1 AS id",
    )
    before = dump(path)
    with pytest.raises(MigrationError, match=r"'notes' exists in the database but is a view, not a table.*nothing was changed"):
        open_database(path, tables=[Table("first", {"id": int}), NOTES])
    assert dump(path) == before


def test_declarations_are_checked():
    with pytest.raises(ValueError, match="declared twice"):
        migrate(None, [Table("x", {"id": int}), Table("x", {"id": int, "y": str})])
    with pytest.raises(ValueError, match="primary key 'key' is not a declared column"):
        create_table_sql(Table("x", {"id": int}, primary_key="key"))


@pytest.mark.parametrize("value, literal", [(None, "NULL"), (True, "1"), (False, "0"), (3, "3"), (2.5, "2.5"), ("it's", "'it''s'")])
def test_defaults_become_sql_literals(value, literal):
    assert sql_literal(value) == literal


def test_the_app_starts_on_a_file_with_a_newer_versions_columns(settings):
    """Through create_app: the core's and the todo app's tables carry columns of a newer version."""
    path = settings.database_path
    old_file(
        path,
        "CREATE TABLE profiles (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, position INTEGER DEFAULT 0, avatar TEXT)",
        "INSERT INTO profiles (id, name, avatar) VALUES (5, 'From the future', 'cat.png')",
        "CREATE TABLE todos (id INTEGER PRIMARY KEY, profile_id INTEGER, title TEXT, done INTEGER DEFAULT 0, "
        "position INTEGER DEFAULT 0, due TEXT)",
        "CREATE INDEX todos_due ON todos (due)",
        "INSERT INTO todos (id, profile_id, title, due) VALUES (8, 5, 'kept', '2027-01-01')",
    )
    app = create_app(settings)
    db = app.state.core.db
    assert db.execute("SELECT avatar FROM profiles WHERE id = 5").fetchall() == [("cat.png",)]
    assert db.execute("SELECT title, due FROM todos WHERE id = 8").fetchall() == [("kept", "2027-01-01")]
    from starlette.testclient import TestClient

    with TestClient(app, base_url="http://127.0.0.1:5001") as client:
        assert "kept" in client.get("/todos").text
        added = client.post("/todos", data={"title": "new"}, headers={"HX-Request": "true"})
        assert added.status_code == 200 and 'id="todo-9"' in added.text


# --- the details a person or a later start sees --------------------------------------------------------


def pragma(db, name: str) -> int:
    return db.execute(f"PRAGMA {name}").fetchall()[0][0]


def test_duplicate_declarations_are_named():
    with pytest.raises(ValueError) as twice:
        migrate(None, [Table("b", {"id": int}), Table("a", {"id": int}), Table("b", {"id": int}), Table("a", {"id": int})])
    assert str(twice.value) == "table declared twice: a, b"


@pytest.mark.parametrize("before", [0, 1])
def test_the_connections_pragmas_are_as_they_were_after_a_rebuild(tmp_path, before):
    path = tmp_path / "app.db"
    old_file(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    db = open_database(path)  # foreign keys on: the app's setting
    db.execute(f"PRAGMA foreign_keys = {before}")
    db.execute(f"PRAGMA legacy_alter_table = {before}")
    migrate(db, [NOTES])
    assert "AUTOINCREMENT" in db.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchall()[0][0]
    assert (pragma(db, "foreign_keys"), pragma(db, "legacy_alter_table")) == (before, before)


def test_a_file_whose_foreign_keys_are_broken_is_refused_and_named(tmp_path):
    path = tmp_path / "app.db"
    old_file(
        path,
        "PRAGMA foreign_keys = OFF",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
        "CREATE TABLE replies (id INTEGER PRIMARY KEY AUTOINCREMENT, note_id INTEGER REFERENCES notes(id))",
        "INSERT INTO replies (note_id) VALUES (42)",  # no note 42: written with foreign keys off
    )
    before = dump(path)
    with pytest.raises(MigrationError) as refused:
        migrate(open_database(path), [NOTES])
    assert str(refused.value) == "cannot update the database (the rebuilt table 'replies' breaks a foreign key); nothing was changed"
    assert dump(path) == before


def test_a_bad_declaration_names_the_table_being_migrated(tmp_path):
    db = open_database(tmp_path / "app.db")
    with pytest.raises(MigrationError) as refused:
        migrate(db, [NOTES, Table("tags", {"id": int, "names": str}, defaults={"names": ["a"]})])
    assert str(refused.value) == (
        "cannot update the table 'tags' of the database: a default must be text, a number, a bool or None, not list; "
        "nothing was changed"
    )
    assert "notes" not in db.table_names()  # one transaction: the table before it is not made either


def test_declared_indexes_are_made_once_under_a_predictable_name(tmp_path):
    db = open_database(tmp_path / "app.db")
    table = Table("notes", {"id": int, "profile_id": int, "position": int}, indexes=(("profile_id", "position"),))
    migrate(db, [table])
    migrate(db, [table])
    indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notes'").fetchall()
    assert indexes == [("idx_notes_profile_id_position",)]


def test_the_declared_type_gives_the_columns_affinity(tmp_path):
    db = open_database(tmp_path / "app.db")
    migrate(db, [
        Table("measures", {"at": float, "note": str, "other": tuple}, primary_key="at"),
        Table("codes", {"code": tuple, "label": str}, primary_key="code"),
    ])
    db.execute("INSERT INTO measures VALUES ('1.5', 7, '007')")
    db.execute("INSERT INTO codes VALUES ('007', 'x')")
    # REAL for a float key; TEXT for str and for a type SQL has no name for: '007' stays text.
    assert db.execute("SELECT typeof(at), note, other FROM measures").fetchall() == [("real", "7", "007")]
    assert db.execute("SELECT code FROM codes").fetchall() == [("007",)]


def test_a_rebuild_says_so_once_and_a_later_start_says_nothing(tmp_path, caplog):
    path = tmp_path / "app.db"
    old_file(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    with caplog.at_level("INFO", logger="pipulate"):
        migrate(open_database(path), [NOTES])
    assert [r.getMessage() for r in caplog.records] == ["table notes: ids are now never reused (AUTOINCREMENT)"]
    caplog.clear()
    with caplog.at_level("INFO", logger="pipulate"):
        migrate(open_database(path), [NOTES, Table("store", {"key": str, "value": str}, primary_key="key")])
    assert caplog.records == []


def test_a_hand_made_lower_case_schema_is_rebuilt_too(tmp_path, caplog):
    path = tmp_path / "app.db"
    old_file(path, "create table notes (id integer primary key asc, text text)", "insert into notes values (4, 'kept')")
    migrate(open_database(path), [NOTES])
    db = open_database(path)
    assert db.execute("SELECT id, text FROM notes").fetchall() == [(4, "kept")]
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchall()[0][0]
    assert sql.startswith('CREATE TABLE "notes" (id integer primary key asc AUTOINCREMENT')
    caplog.clear()
    old_file(tmp_path / "b.db", "create table notes (id integer primary key autoincrement, text text)")
    with caplog.at_level("INFO", logger="pipulate"):
        migrate(open_database(tmp_path / "b.db"), [NOTES])
    assert caplog.records == []  # lower-case AUTOINCREMENT counts


def test_a_key_declared_in_a_way_that_cannot_be_upgraded_is_left_with_a_warning(tmp_path, caplog):
    path = tmp_path / "app.db"
    old_file(path, "CREATE TABLE notes (id INT PRIMARY KEY, text TEXT)", "INSERT INTO notes VALUES (1, 'kept')")
    with caplog.at_level("INFO", logger="pipulate"):
        migrate(open_database(path), [NOTES])
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "table notes: its primary key is declared in a way this version cannot upgrade; ids may be reused"),
    ]
    assert dump(path)["rows"]["notes"] == [(1, "kept", None, 0)]  # the new columns added, the key left


def test_a_primary_key_declared_desc_is_left_as_it_is(tmp_path):
    """SQLite refuses AUTOINCREMENT on `INTEGER PRIMARY KEY DESC`: the app starts on such a file."""
    path = tmp_path / "app.db"
    old_file(path, "CREATE TABLE notes (id INTEGER PRIMARY KEY DESC, text TEXT)", "INSERT INTO notes VALUES (1, 'kept')")
    migrate(open_database(path), [NOTES])
    assert dump(path)["rows"]["notes"] == [(1, "kept", None, 0)]
