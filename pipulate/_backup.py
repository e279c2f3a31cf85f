"""Backups of the app's database: a consistent copy while the app runs, putting one back, and the
automatic ones kept in <data dir>/backups.

- A backup uses SQLite's online backup API (through apsw): it copies the database page by page
  from its own connection, so the app keeps answering, and the copy is consistent (a write that
  lands meanwhile restarts the copy of what changed; it never mixes two states).
- Restoring replaces the database's content the same way, and only while no app runs on that
  data dir: `pipulate serve` holds a lock file there (an OS lock, released however the process
  ends) which `restore` checks. The database as it was is kept as a backup first.
- Automatic backups (`backup_every_hours`, `backups_kept` in pipulate.toml) are made by the
  running app in a worker thread; only those are pruned, never one made by hand.

Result files of workflow runs (<data dir>/runs/) are files, not database pages: a profile's
export (pipulate/_profile_file.py) carries them; a database backup does not.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import datetime
from pathlib import Path

log = logging.getLogger("pipulate.backup")
BACKUP_FOLDER = "backups"
AUTOMATIC = "auto"
PAGES_PER_STEP = 256  # between steps, the app's own writes get their turn


class BackupError(Exception):
    """The message is one line for the user."""


def backups_dir(settings) -> Path:
    return settings.data_dir / BACKUP_FOLDER


def backup_name(settings, kind: str = "") -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")[:-3]
    stem = Path(settings.database_name).stem
    return backups_dir(settings) / f"{stem}-{kind + '-' if kind else ''}{stamp}.db"


def backup_database(database: Path, target: Path) -> Path:
    """Copy `database` to `target` (a new file, written whole or not at all) while it may be in use."""
    import apsw

    if not database.is_file():
        raise BackupError(f"there is no database at {database} (has the app run with this data dir?)")
    if target.exists():
        raise BackupError(f"{target} exists already; choose another file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        source = apsw.Connection(str(database))
        source.execute("PRAGMA busy_timeout = 5000")
        try:
            copy = apsw.Connection(str(partial))
            try:
                _copy_pages(source, copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
                problems = copy.execute("PRAGMA quick_check").fetchall()
            finally:
                copy.close()
        finally:
            source.close()
        if problems != [("ok",)]:
            raise BackupError(f"the copy of {database} does not check out: {problems[0][0]}")
        os.replace(partial, target)
    except apsw.Error as error:
        raise BackupError(f"could not back up {database}: {error}") from None
    finally:
        partial.unlink(missing_ok=True)
    return target


def _copy_pages(source, target) -> None:
    """SQLite's online backup of `source` into `target`, a few pages at a time, so a writer of
    `source` (the running app) is held up only for a step, never for the whole copy."""
    with target.backup("main", source, "main") as job:
        while not job.done:
            job.step(PAGES_PER_STEP)


def check_backup_file(path: Path) -> None:
    """A file `restore` can take: an SQLite database of this app (it has profiles), intact."""
    import apsw

    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    try:
        connection = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            problems = connection.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            connection.close()
    except apsw.Error:
        raise BackupError(f"{path} is not an SQLite database") from None
    if problems != [("ok",)]:
        raise BackupError(f"{path} is damaged: {problems[0][0]}")
    if not {"profiles", "store"} <= tables:
        raise BackupError(f"{path} is an SQLite database, but not this app's (it has no profiles)")


def restore_database(backup: Path, database: Path, keep_as: Path) -> None:
    """Put `backup` in the place of `database`, after keeping the current one as `keep_as`."""
    import apsw

    check_backup_file(backup)
    if database.is_file():
        backup_database(database, keep_as)
    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = apsw.Connection(str(backup), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            target = apsw.Connection(str(database))
            try:
                _copy_pages(source, target)
            finally:
                target.close()
        finally:
            source.close()
    except apsw.Error as error:
        raise BackupError(f"could not restore into {database}: {error}") from None


# --- "is the app running on this data dir?" --------------------------------------------------------


class DataDirLock:
    """Held by `pipulate serve` for its whole run: an OS lock on <data dir>/<database>-lock (it
    goes away with the process, even a killed one). The file says which process holds it. Named
    like SQLite's own -wal and -shm files, so what ignores those (a variant's .gitignore: *.db-*)
    ignores it too."""

    def __init__(self, settings) -> None:
        self.path = settings.data_dir / f"{settings.database_name}-lock"
        self._file = None

    def acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def holder(self) -> str | None:
        """The pid of the app holding the lock, or None when no app runs on this data dir."""
        if not self.path.exists():
            return None
        if self.acquire():
            self.release()
            return None
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"


# --- automatic backups ------------------------------------------------------------------------------


def automatic_backups(settings) -> list[Path]:
    stem = Path(settings.database_name).stem
    return sorted(backups_dir(settings).glob(f"{stem}-{AUTOMATIC}-*.db"))


def prune(settings) -> list[Path]:
    """Keep the newest `backups_kept` automatic backups; answer those removed."""
    old = automatic_backups(settings)[:-settings.backups_kept]
    for path in old:
        path.unlink(missing_ok=True)
    return old


def backup_now(settings) -> Path:
    made = backup_database(settings.database_path, backup_name(settings, AUTOMATIC))
    prune(settings)
    return made


async def run_automatic_backups(settings) -> None:
    """The server's task: a backup whenever the newest automatic one is older than the interval.
    The first look waits a little (a server started for a moment makes none)."""
    interval = settings.backup_every_hours * 3600
    if interval <= 0:
        return
    await asyncio.sleep(min(60.0, interval))
    while True:
        made = automatic_backups(settings)
        age = time.time() - made[-1].stat().st_mtime if made else interval
        if age >= interval:
            try:
                path = await asyncio.to_thread(backup_now, settings)
                log.info("automatic backup: %s", path)
            except (BackupError, OSError) as error:
                log.warning("the automatic backup failed: %s", error)
            age = 0
        await asyncio.sleep(max(1.0, interval - age))
