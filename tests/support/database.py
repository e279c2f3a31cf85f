"""Reading a running server's database file from the test (SQLite allows a reader beside it)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from .timing import scaled


def snapshot(database: Path) -> dict[str, list[tuple]]:
    """Every row of every table (SQLite's own tables aside), sorted, for before/after comparisons."""
    with closing(sqlite3.connect(database, timeout=scaled(10))) as db:
        names = [
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not row[0].startswith("sqlite_")
        ]
        return {name: sorted(db.execute(f"SELECT * FROM [{name}]").fetchall(), key=repr) for name in names}


def rows_kept(before: dict, after: dict) -> list[str]:
    """What of `before` is missing from `after`: rows (by full content), as readable lines."""
    missing = []
    for table, rows in before.items():
        remaining = set(after.get(table, []))
        missing += [f"{table}: {row!r}" for row in rows if row not in remaining]
    return missing


def query(database: Path, sql: str, parameters=()) -> list[tuple]:
    with closing(sqlite3.connect(database, timeout=scaled(10))) as db:
        return db.execute(sql, parameters).fetchall()
