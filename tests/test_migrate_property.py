"""Property: migrating any older (or newer) shape of a declared table keeps every column, every
value and every index that was there, and adds what the declaration has and the file lacks."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import apsw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipulate import Table, migrate
from pipulate._migrate import MigrationError

DECLARED = Table("notes", {"id": int, "profile_id": int, "text": str, "score": float, "done": bool},
                 defaults={"done": False, "score": 0.0}, indexes=(("profile_id",),))
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True).filter(lambda n: n not in DECLARED.columns and not n.startswith("sqlite"))
TYPES = st.sampled_from(["INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC", ""])
VALUES = st.one_of(st.none(), st.integers(-(2**62), 2**62), st.text(max_size=20), st.floats(allow_nan=False), st.binary(max_size=8))


@st.composite
def old_schemas(draw):
    kept = draw(st.lists(st.sampled_from(["profile_id", "text", "score", "done"]), unique=True))
    extra = draw(st.lists(st.tuples(NAMES, TYPES), unique_by=lambda c: c[0], max_size=4))
    autoincrement = draw(st.booleans())
    columns = [("id", "INTEGER PRIMARY KEY" + (" AUTOINCREMENT" if autoincrement else ""))]
    columns += [(name, "INTEGER") for name in kept] + extra
    rows = draw(st.lists(st.lists(VALUES, min_size=len(columns) - 1, max_size=len(columns) - 1), max_size=6))
    index = draw(st.sampled_from([None, *[name for name, _ in extra]])) if extra else None
    return columns, rows, index


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(old_schemas())
def test_migration_only_adds(tmp_path_factory, schema):
    columns, rows, index = schema
    path = tmp_path_factory.mktemp("db") / "app.db"
    old = apsw.Connection(str(path))
    old.execute("CREATE TABLE notes (" + ", ".join(f"[{name}] {kind}" for name, kind in columns) + ")")
    names = [name for name, _ in columns[1:]]
    for row in rows:
        if names:
            old.execute(f"INSERT INTO notes ({', '.join(f'[{n}]' for n in names)}) VALUES ({', '.join('?' * len(names))})", row)
        else:
            old.execute("INSERT INTO notes DEFAULT VALUES")
    if index:
        old.execute(f"CREATE INDEX my_index ON notes ([{index}])")
    old.close()
    before = _read(path)

    from fastlite import database

    db = database(path)
    try:
        migrate(db, [DECLARED])
    except MigrationError:
        assert _read(path) == before  # nothing changed, and it said why
        return
    finally:
        db.close()
    after = _read(path)
    assert set(before["columns"]) <= set(after["columns"]) and set(DECLARED.columns) <= set(after["columns"])
    for row_before, row_after in zip(before["rows"], after["rows"], strict=True):
        assert {k: row_after[k] for k in row_before} == row_before
    assert before["indexes"] <= after["indexes"]


def _read(path) -> dict:
    with closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        columns = [row[1] for row in db.execute("PRAGMA table_info(notes)")]
        rows = [dict(row) for row in db.execute("SELECT * FROM notes ORDER BY id")]
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notes'")}
    return {"columns": columns, "rows": rows, "indexes": indexes}
