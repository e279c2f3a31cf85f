"""The one SQLite file and its one connection; tables are declared as data and migrated at start-up.

A table is declared as a `Table` (name, columns, defaults). The core declares its own tables
below; each plugin declares the tables it owns in `Plugin.tables`. `migrate()` (in _migrate.py)
is the single place that turns declarations into SQL: it creates missing tables and adds
missing columns to an existing file in place, and never drops anything, so upgrading never
needs a manual step and never loses data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ._migrate import MigrationError, migrate

if TYPE_CHECKING:  # fastlite (and numpy under it) load only when a database is opened
    from fastlite.core import Database

__all__ = ["CORE_TABLES", "MigrationError", "Table", "migrate", "open_database"]


@dataclass(frozen=True)
class Table:
    """A table declaration: `Table("todos", {"id": int, "title": str}, defaults={"done": False})`."""

    name: str
    columns: dict[str, type]
    primary_key: str = "id"
    defaults: dict[str, object] = field(default_factory=dict)
    # Each entry is the columns of one index, e.g. (("profile_id", "position"),).
    indexes: tuple[tuple[str, ...], ...] = ()


# The tables every app has, whatever plugins are installed.
CORE_TABLES = (
    # The key/value "server cookie" behind `Store`. Values are JSON.
    Table("store", {"key": str, "value": str}, primary_key="key"),
    # Profiles own per-profile data; the profiles app is the UI over this table.
    Table("profiles", {"id": int, "name": str, "position": int}, defaults={"position": 0}),
    # The conversation per profile: chat messages and the notices chatq keeps.
    Table(
        "chat_messages",
        {"id": int, "profile_id": int, "role": str, "content": str, "status": str, "created_at": float},
        defaults={"status": "complete"},
        indexes=(("profile_id", "id"),),
    ),
    # The run store of every workflow (pipulate/_workflows/store.py reads and writes it): a row
    # per run, keyed "<profile>-<workflow>-<NN>", and a row per step of a run.
    Table(
        "workflow_runs",
        {"key": str, "profile_id": int, "workflow": str, "number": int, "finalized": bool,
         "created_at": float, "updated_at": float},
        primary_key="key",
        defaults={"finalized": False},
        indexes=(("profile_id", "workflow", "number"),),
    ),
    Table(
        "workflow_steps",
        {"id": str, "run_key": str, "step": str, "status": str, "inputs": str, "result": str, "result_kind": str,
         "result_info": str, "result_digest": str, "inputs_digest": str, "code_digest": str, "error": str,
         "job_id": str, "attempt": int, "progress_done": int, "progress_total": int, "progress_note": str,
         "model": str, "prompt": str, "started_at": float, "finished_at": float, "updated_at": float},
        defaults={"status": "pending", "attempt": 0},
        indexes=(("run_key",), ("status",)),
    ),
)


def open_database(path: Path, synchronous: str = "normal", tables=()) -> Database:
    """Open (or create) the app's SQLite file, with the core's tables (and `tables`, the
    plugins') in place. One connection serves the whole app; a notebook may open the same file
    (WAL lets them share it).

    fastlite turns WAL on. With synchronous=NORMAL a committed row is in the WAL file (the OS has
    it) before the answer leaves: killing the app loses nothing; a power cut may lose the last
    commits, never the file's consistency. FULL also fsyncs each commit (~0.3 ms, blocking).
    """
    from fastlite import database

    path.parent.mkdir(parents=True, exist_ok=True)  # fastlite creates only one missing level
    db = database(path)
    # Several processes may share the file (a notebook and the server): wait rather than fail.
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'full' else 'NORMAL'}")
    try:
        migrate(db, [*CORE_TABLES, *tables])  # one transaction: the core's and the plugins' tables
    except BaseException:
        db.close()
        raise
    return db
