"""Turn table declarations into SQL: create what is missing, add what a table lacks. Only adds.

Rules, each learned the hard way:
- Nothing is ever dropped or narrowed. A column this version does not declare (a newer
  version's, or one the user added with ALTER TABLE) stays with its values and its indexes.
  (The previous version used fastlite's `transform=True`, which rebuilt tables to match the
  declaration and silently dropped such columns.)
- Ids are never reused: integer primary keys are `AUTOINCREMENT`, so a deleted profile's id is
  not handed to the next profile (a stale tab or a late chat reply would otherwise reach it).
  A table made by an older version without it is rebuilt once, keeping every column, row,
  index and trigger, in the same transaction.
- All of it is one transaction: a start-up that cannot migrate changes nothing and says why in
  one line (`MigrationError`).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

    from ._database import Table

log = logging.getLogger("pipulate")
SQL_TYPES = {int: "INTEGER", bool: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB", dict: "TEXT", list: "TEXT"}


class MigrationError(Exception):
    """The database could not be brought up to date; nothing was changed. One line, for the user."""


def migrate(db: Database, tables) -> None:
    """Create every declared table, or add what an existing one lacks, keeping everything else."""
    names = [table.name for table in tables]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ValueError(f"table declared twice: {', '.join(sorted(duplicates))}")
    import apsw

    current = None
    # A table rebuild must not fire other tables' ON DELETE actions; the pragma only takes
    # effect outside a transaction, so it is switched around it.
    foreign_keys = db.execute("PRAGMA foreign_keys").fetchall()[0][0]
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        with db.conn:  # one transaction: every table is migrated, or none
            for table in tables:
                current = table.name
                _migrate_table(db, table)
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise MigrationError(f"the rebuilt table {problems[0][0]!r} breaks a foreign key")
    except MigrationError as error:
        raise MigrationError(f"cannot update the database ({error}); nothing was changed") from None
    except (apsw.Error, ValueError) as error:
        raise MigrationError(
            f"cannot update the table {current!r} of the database: {error}; nothing was changed"
        ) from None
    finally:
        db.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")


def _migrate_table(db: Database, table: Table) -> None:
    kind = _object_type(db, table.name)
    if kind not in (None, "table"):
        raise MigrationError(f"{table.name!r} exists in the database but is a {kind}, not a table")
    existing = _columns(db, table.name)
    if not existing:
        db.execute(create_table_sql(table))
    else:
        for column, kind in table.columns.items():
            if column.lower() not in existing:
                # Existing rows read the DEFAULT: rows that predate the column get its default.
                db.execute(f"ALTER TABLE [{table.name}] ADD COLUMN {_column_sql(table, column, kind)}")
        if _needs_autoincrement(db, table):
            _rebuild_with_autoincrement(db, table)
    for columns in table.indexes:
        name = f"idx_{table.name}_{'_'.join(columns)}"
        listed = ", ".join(f"[{column}]" for column in columns)
        db.execute(f"CREATE INDEX IF NOT EXISTS [{name}] ON [{table.name}] ({listed})")


def create_table_sql(table: Table) -> str:
    parts = []
    for column, kind in table.columns.items():
        if column == table.primary_key and kind is int:
            parts.append(f"[{column}] INTEGER PRIMARY KEY AUTOINCREMENT")
        elif column == table.primary_key:
            parts.append(f"[{column}] {SQL_TYPES.get(kind, 'TEXT')} PRIMARY KEY")
        else:
            parts.append(_column_sql(table, column, kind))
    if table.primary_key not in table.columns:
        raise ValueError(f"table {table.name!r}: the primary key {table.primary_key!r} is not a declared column")
    return f"CREATE TABLE [{table.name}] ({', '.join(parts)})"


def _column_sql(table: Table, column: str, kind: type) -> str:
    sql = f"[{column}] {SQL_TYPES.get(kind, 'TEXT')}"
    if column in table.defaults:
        sql += f" DEFAULT {sql_literal(table.defaults[column])}"
    return sql


def sql_literal(value: object) -> str:
    """A constant for DDL, where parameters cannot be used."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"a default must be text, a number, a bool or None, not {type(value).__name__}")


def _columns(db: Database, name: str) -> dict[str, tuple]:
    """Lower-cased column name -> PRAGMA table_info row; empty when there is no such table."""
    return {row[1].lower(): row for row in db.execute(f"PRAGMA table_info([{name}])").fetchall()}


def _object_type(db: Database, name: str) -> str | None:
    rows = db.execute("SELECT type FROM sqlite_master WHERE lower(name) = lower(?)", [name]).fetchall()
    return rows[0][0] if rows else None


def _schema_sql(db: Database, name: str) -> str:
    rows = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [name]).fetchall()
    return rows[0][0] or "" if rows else ""


def _pk_declaration(pk: str) -> re.Pattern:
    quoted = rf"(?:\[{re.escape(pk)}\]|\"{re.escape(pk)}\"|`{re.escape(pk)}`|{re.escape(pk)})"
    return re.compile(rf"({quoted}\s+INTEGER\s+PRIMARY\s+KEY)(\s+(?:ASC|DESC))?(?!\s+AUTOINCREMENT)", re.I)


def _needs_autoincrement(db: Database, table: Table) -> bool:
    if table.columns.get(table.primary_key) is not int:
        return False
    sql = _schema_sql(db, table.name)
    if re.search(r"\bAUTOINCREMENT\b", sql, re.I):
        return False
    declared = _pk_declaration(table.primary_key).search(sql)
    # "INTEGER PRIMARY KEY DESC" is, by an old SQLite quirk, not the rowid, and SQLite refuses
    # AUTOINCREMENT on it: such a table keeps working as it is.
    if not declared or (declared.group(2) or "").strip().upper() == "DESC":
        log.warning("table %s: its primary key is declared in a way this version cannot upgrade; ids may be reused", table.name)
        return False
    return True


def _rebuild_with_autoincrement(db: Database, table: Table) -> None:
    """The same table, with AUTOINCREMENT on its key: the documented 12-step table change of
    SQLite (new table from the old CREATE statement, copy, drop, rename, indexes, triggers)."""
    name, temporary = table.name, f"_pipulate_rebuild_{table.name}"
    sql = _pk_declaration(table.primary_key).sub(lambda m: f"{m.group(1)}{m.group(2) or ''} AUTOINCREMENT", _schema_sql(db, name), count=1)
    sql = re.sub(r"^\s*CREATE\s+TABLE\s+(?:\[[^\]]+\]|\"[^\"]+\"|`[^`]+`|\S+)", f"CREATE TABLE [{temporary}]", sql, count=1, flags=re.I)
    others = db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL", [name]
    ).fetchall()
    columns = ", ".join(f"[{row[1]}]" for row in db.execute(f"PRAGMA table_info([{name}])").fetchall())
    db.execute(sql)
    db.execute(f"INSERT INTO [{temporary}] ({columns}) SELECT {columns} FROM [{name}]")
    db.execute(f"DROP TABLE [{name}]")
    # Legacy rename: views that name the table are not re-checked mid-change (the table they
    # name exists again right after), and the rename rewrites nothing else.
    legacy = db.execute("PRAGMA legacy_alter_table").fetchall()[0][0]
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        db.execute(f"ALTER TABLE [{temporary}] RENAME TO [{name}]")
    finally:
        db.execute(f"PRAGMA legacy_alter_table = {'ON' if legacy else 'OFF'}")
    for (statement,) in others:
        db.execute(statement)
    log.info("table %s: ids are now never reused (AUTOINCREMENT)", name)
