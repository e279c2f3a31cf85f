"""`pipulate backup [FILE]` and `pipulate restore FILE`: the database, copied while the app runs and
put back while it does not (pipulate/_backup.py)."""

from __future__ import annotations

from pathlib import Path

from .._config import ConfigError
from .settings_options import add_settings_options, settings_from_options


def add_parsers(commands) -> None:
    backup = commands.add_parser(
        "backup", help="copy the database (safe while the app runs)",
        description="Write a consistent copy of the app's database (SQLite's online backup), even while "
        "the app runs. Default FILE: <data dir>/backups/<name>-<date>.db.",
    )
    backup.add_argument("file", nargs="?", type=Path, metavar="FILE", help="where to write the copy (a new file)")
    add_settings_options(backup)
    backup.set_defaults(run=run_backup)

    restore = commands.add_parser(
        "restore", help="put a backup back (with the app stopped)",
        description="Replace the app's database with a backup made by `pipulate backup`. Refused while the "
        "app runs on this data dir; the database as it was is kept in <data dir>/backups first.",
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a backup of this app's database")
    add_settings_options(restore)
    restore.set_defaults(run=run_restore)


def run_backup(args) -> int:
    from .._backup import BackupError, backup_database, backup_name
    from . import fail

    try:
        settings = settings_from_options(args)
    except ConfigError as error:
        return fail(str(error), 2)
    target = args.file or backup_name(settings)
    try:
        made = backup_database(settings.database_path, target)
    except BackupError as error:
        return fail(str(error))
    print(f"Backed up {settings.database_path} to {made} ({made.stat().st_size / 1e6:.1f} MB).")
    return 0


def run_restore(args) -> int:
    from .._backup import BackupError, DataDirLock, backup_name, restore_database
    from . import fail

    try:
        settings = settings_from_options(args)
    except ConfigError as error:
        return fail(str(error), 2)
    lock = DataDirLock(settings)
    holder = lock.holder()
    if holder is not None:
        return fail(f"the app is running on {settings.data_dir} (process {holder}); stop it, then restore")
    if not lock.acquire():  # an app started just now: the same answer
        return fail(f"the app is running on {settings.data_dir}; stop it, then restore")
    try:
        kept = backup_name(settings, "before-restore")
        restore_database(args.file, settings.database_path, kept)
    except BackupError as error:
        return fail(str(error))
    finally:
        lock.release()
    note = f" The database it replaced is kept as {kept}." if kept.exists() else ""
    print(f"Restored {settings.database_path} from {args.file}.{note}")
    return 0
