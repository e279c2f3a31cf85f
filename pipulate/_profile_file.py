"""A profile as one file, to take elsewhere or keep: its todos, chat, settings, workflow runs and
their result files, in a zip (`profile.json` and `runs/<run key>/...`).

What a profile owns is found, not listed: every declared table (the core's and each plugin's)
with a `profile_id` column. Integer ids are given anew on import (ids are never reused, and
another app has its own), so a plugin whose tables point at each other by id should not rely on
them surviving. Workflow runs are keyed by the profile's name (`<profile>-<workflow>-<NN>`): an
imported run gets a key of the new profile, its steps follow, and its result files are copied
to the new key's folder. A step whose job was running at export comes back failed, to retry.

Import reads the file with limits (member names, sizes, JSON depth) before writing anything, and
writes the rows in one transaction.
"""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from ._config import slugify
from ._errors import UserError, quoted
from ._json_input import BadJSON, loads_limited

FORMAT = "pipulate-profile"
VERSION = 1
MANIFEST = "profile.json"
MAX_FILE_BYTES = 2 * 1024**3  # per result file, once unpacked
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_MANIFEST_BYTES = 512 * 1024**2
_SPECIAL = {"profiles", "store", "workflow_runs", "workflow_steps"}  # handled by name below
INTERRUPTED = "The job was running when this profile was exported; retry it."


def profile_tables(core) -> list:
    """The declared tables that hold per-profile rows (besides the workflow store)."""
    from ._database import CORE_TABLES

    declared = [*CORE_TABLES, *[table for plugin in core.plugins.values() for table in type(plugin).tables]]
    return [table for table in declared if "profile_id" in table.columns and table.name not in _SPECIAL]


def export_profile(core, profile_id: int, target) -> None:
    """Write the profile as a zip file into `target` (a path or a binary file)."""
    profile = core.profiles.get(profile_id)
    db = core.db
    tables = {}
    for table in profile_tables(core):
        rows = _rows(db, table.name, "profile_id = ? ORDER BY rowid", [profile_id])
        drop = {"profile_id"} | ({table.primary_key} if table.columns.get(table.primary_key) is int else set())
        tables[table.name] = [{k: v for k, v in row.items() if k not in drop} for row in rows]
    runs = []
    for run in _rows(db, "workflow_runs", "profile_id = ? ORDER BY created_at", [profile_id]):
        steps = _rows(db, "workflow_steps", "run_key = ? ORDER BY rowid", [run["key"]])
        runs.append({**{k: v for k, v in run.items() if k != "profile_id"}, "steps": steps})
    manifest = {
        "format": FORMAT, "version": VERSION, "app": core.settings.app_name, "exported_at": time.time(),
        "profile": {"name": profile.name}, "settings": core.profile_settings.export(profile_id),
        "tables": tables, "workflow_runs": runs,
    }
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
        for run in runs:
            folder = core.settings.data_dir / "runs" / run["key"]
            if folder.is_dir():
                for path in sorted(folder.rglob("*")):
                    if path.is_file() and not path.name.startswith("."):
                        archive.write(path, f"runs/{run['key']}/{path.relative_to(folder).as_posix()}")


def import_profile(core, source) -> tuple:
    """A new profile from an exported file (a path, a seekable binary file, or bytes); answers
    (the profile, notes for the user)."""
    archive, manifest = _open(io.BytesIO(source) if isinstance(source, bytes) else source)
    with archive:
        notes: list[str] = []
        name = _free_name(core, str(manifest["profile"].get("name") or "Imported"))
        runs_dir = core.settings.data_dir / "runs"
        copied: list[Path] = []
        db = core.db
        try:
            with db.conn:  # one transaction: all rows, or none
                profile = core.profiles.create(name)
                for table_name, rows in _checked_tables(core, manifest, notes).items():
                    for row in rows:
                        _insert(db, table_name, {**row, "profile_id": profile.id})
                installed = set(core.workflows.workflows) if core.workflows is not None else set()
                for run in manifest.get("workflow_runs") or []:
                    _import_run(core, profile, run, archive, runs_dir, copied)
                    if run.get("workflow") not in installed:
                        notes.append(f"its run of {quoted(run.get('workflow'))} is kept, but no such workflow is installed here")
                if manifest.get("settings"):
                    try:
                        core.profile_settings.update(profile.id, **manifest["settings"])
                    except (UserError, TypeError):
                        notes.append("its settings were not valid here and were left out")
        except BaseException:
            for folder in copied:
                shutil.rmtree(folder, ignore_errors=True)
            raise
    return profile, notes


# --- reading a file with limits ------------------------------------------------------------------


def _open(source):
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, ValueError):
        raise UserError("That file is not an exported profile (it is not a zip file).") from None
    total = 0
    for member in archive.infolist():
        total += member.file_size
        path = PurePosixPath(member.filename)
        if path.is_absolute() or ".." in path.parts or (member.filename != MANIFEST and path.parts[:1] != ("runs",)):
            raise UserError(f"That file holds {quoted(member.filename)}, which no exported profile has; nothing was imported.")
        if member.file_size > MAX_FILE_BYTES or total > MAX_TOTAL_BYTES:
            raise UserError("That file unpacks to more than an exported profile can hold; nothing was imported.")
    try:
        info = archive.getinfo(MANIFEST)
        if info.file_size > MAX_MANIFEST_BYTES:
            raise UserError("That file's profile.json is too large; nothing was imported.")
        manifest = loads_limited(archive.read(MANIFEST).decode("utf-8"))
    except KeyError:
        raise UserError("That file is not an exported profile (it has no profile.json).") from None
    except (BadJSON, UnicodeDecodeError, zipfile.BadZipFile) as error:
        raise UserError(f"That file's profile.json cannot be read ({error}); nothing was imported.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("profile"), dict):
        raise UserError("That file is not an exported profile; nothing was imported.")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        raise UserError("That profile was exported by a newer version of the app; update this one to import it.")
    return archive, manifest


def _checked_tables(core, manifest: dict, notes: list[str]) -> dict[str, list[dict]]:
    known = {table.name: table for table in profile_tables(core)}
    tables = manifest.get("tables") or {}
    if not isinstance(tables, dict):
        raise UserError("That file's tables are not in the expected form; nothing was imported.")
    checked = {}
    for name, rows in tables.items():
        if name not in known:
            notes.append(f"{len(rows) if isinstance(rows, list) else 0} rows of {name}, which no app here has, were left out")
            continue
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise UserError(f"That file's {name} rows are not in the expected form; nothing was imported.")
        columns = set(_columns(core.db, name)) - {"profile_id"}
        table = known[name]
        if table.columns.get(table.primary_key) is int:
            columns.discard(table.primary_key)  # ids are given anew
        checked[name] = [{k: v for k, v in row.items() if k in columns and _plain(v)} for row in rows]
    return checked


def _import_run(core, profile, run: dict, archive: zipfile.ZipFile, runs_dir: Path, copied: list[Path]) -> None:
    from ._workflows.store import RUNNING, RunStore, step_row_id

    if not isinstance(run, dict) or not isinstance(run.get("key"), str) or not isinstance(run.get("workflow"), str):
        raise UserError("That file's workflow runs are not in the expected form; nothing was imported.")
    store = RunStore(core.db)
    new = store.create_run(run["workflow"], profile.id, profile.name)
    store.runs.update({"key": new.key, "finalized": bool(run.get("finalized")),
                       "created_at": run.get("created_at") or new.created_at, "updated_at": run.get("updated_at") or new.updated_at})
    columns = set(_columns(core.db, "workflow_steps"))
    for step in run.get("steps") or []:
        if not isinstance(step, dict) or not isinstance(step.get("step"), str):
            continue
        row = {k: v for k, v in step.items() if k in columns and _plain(v)}
        row.update(id=step_row_id(new.key, step["step"]), run_key=new.key, job_id="")
        if row.get("status") == RUNNING:
            row.update(status="failed", error=INTERRUPTED)
        store.steps.insert(row)
    folder = runs_dir / new.key
    copied.append(folder)  # removed again if the import fails later
    prefix = f"runs/{run['key']}/"
    for member in archive.infolist():
        if member.filename.startswith(prefix) and not member.is_dir():
            target = folder / member.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, open(target, "wb") as copy:
                shutil.copyfileobj(source, copy)


# --- small helpers -----------------------------------------------------------------------------------


def _rows(db, table: str, where: str, args: list) -> list[dict]:
    names = _columns(db, table)  # every column, those other versions added too
    rows = db.execute(f"SELECT {', '.join(f'[{n}]' for n in names)} FROM [{table}] WHERE {where}", args).fetchall()
    return [dict(zip(names, row, strict=True)) for row in rows]


def _columns(db, table: str) -> list[str]:
    return [row[1] for row in db.execute(f"PRAGMA table_info([{table}])").fetchall()]


def _insert(db, table: str, row: dict) -> None:
    names = list(row)
    db.execute(f"INSERT INTO [{table}] ({', '.join(f'[{n}]' for n in names)}) VALUES ({', '.join('?' * len(names))})",
               [row[n] for n in names])


def _plain(value) -> bool:
    return value is None or isinstance(value, (str, int, float))


def _free_name(core, name: str) -> str:
    taken = {profile.name.lower() for profile in core.profiles.all()}
    base = name[:45] or "Imported"
    if base.lower() not in taken:
        return base
    for number in range(1, 1000):
        candidate = f"{base} (imported{'' if number == 1 else f' {number}'})"
        if candidate.lower() not in taken:
            return candidate
    raise UserError(f"There are too many profiles named like {quoted(base)}; rename one first.")


def file_name(profile_name: str) -> str:
    return f"{slugify(profile_name)}.pipulate-profile.zip"
