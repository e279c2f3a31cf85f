"""`pipulate backup` and `pipulate restore` as the user runs them, against a real server: a backup
made while the app is busy writing is consistent; a restore is refused while the app runs on the
data dir and works once it is stopped; the automatic backups keep the newest N."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.cli import assert_one_line_error, clean_env
from tests.support.timing import poll, scaled

HTMX = {"HX-Request": "true"}


def pipulate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipulate", *args], cwd=cwd, env=clean_env(), capture_output=True,
                          text=True, timeout=scaled(60))


def todos_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return [row[0] for row in connection.execute("SELECT title FROM todos ORDER BY id")]


def test_a_backup_while_the_app_writes_is_consistent_and_restore_waits_for_the_app_to_stop(servers, tmp_path):
    data = tmp_path / "data"
    app = servers(data_dir=data)
    stop = threading.Event()
    written: list[str] = []

    def keep_writing():
        with app.client() as client:
            while not stop.is_set():
                title = f"todo {len(written)}"
                assert client.post("/todos", data={"title": title}, headers=HTMX).status_code == 200
                written.append(title)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        poll(lambda: len(written) > 50, 20, "the app is writing")
        made = pipulate("backup", str(tmp_path / "copy.db"), "--data-dir", str(data), cwd=tmp_path)
        poll(lambda: len(written) > 100, 20, "the app is still writing after the backup")
    finally:
        stop.set()
        writer.join()
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"Backed up {data / 'pipulate.db'} to {tmp_path / 'copy.db'}")
    saved = todos_in(tmp_path / "copy.db")
    assert 50 < len(saved) < len(written)
    assert saved == written[:len(saved)]  # a prefix of what was written: one moment, whole

    # While the app runs on the data dir, restore refuses and changes nothing.
    refused = pipulate("restore", str(tmp_path / "copy.db"), "--data-dir", str(data), cwd=tmp_path)
    assert_one_line_error(refused, 1, f"the app is running on {data} (process {app.process.pid})")
    app.stop()
    assert todos_in(data / "pipulate.db") == written

    restored = pipulate("restore", str(tmp_path / "copy.db"), "--data-dir", str(data), cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert todos_in(data / "pipulate.db") == saved
    (kept,) = (data / "backups").glob("pipulate-before-restore-*.db")  # what it replaced, kept
    assert todos_in(kept) == written
    assert f"kept as {kept}" in restored.stdout
    again = servers(data_dir=data)  # and the app runs on it
    with again.client() as client:
        assert f'id="todo-{len(saved)}"' in client.get("/todos", headers=HTMX).text


def test_a_backup_to_the_default_place_and_files_that_are_not_backups(tmp_path, server):
    made = pipulate("backup", "--data-dir", str(server.data_dir), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    (copy,) = (server.data_dir / "backups").glob("pipulate-*.db")
    assert todos_in(copy) == []
    again = pipulate("backup", str(copy), "--data-dir", str(server.data_dir), cwd=tmp_path)
    assert_one_line_error(again, 1, "exists already")
    server.stop()
    (tmp_path / "text.db").write_text("not a database")
    assert_one_line_error(pipulate("restore", str(tmp_path / "text.db"), "--data-dir", str(server.data_dir), cwd=tmp_path),
                          1, "is not an SQLite database")
    with sqlite3.connect(tmp_path / "other.db") as other:
        other.execute("CREATE TABLE t (x)")
    assert_one_line_error(pipulate("restore", str(tmp_path / "other.db"), "--data-dir", str(server.data_dir), cwd=tmp_path),
                          1, "not this app's")
    assert_one_line_error(pipulate("restore", str(tmp_path / "missing.db"), "--data-dir", str(server.data_dir), cwd=tmp_path),
                          1, "does not exist")


def test_automatic_backups_keep_the_newest_n(servers, tmp_path):
    # Every 1.8 s, keeping 2: the running app makes them and prunes its own, not one made by hand.
    data = tmp_path / "data"
    app = servers(data_dir=data, env={"PIPULATE_BACKUP_EVERY_HOURS": "0.0005", "PIPULATE_BACKUPS_KEPT": "2"})
    assert pipulate("backup", "--data-dir", str(data), cwd=tmp_path).returncode == 0  # by hand
    automatic = lambda: sorted((data / "backups").glob("pipulate-auto-*.db"))  # noqa: E731
    first = poll(lambda: automatic()[:1], 20, "a first automatic backup")[0]
    poll(lambda: first not in automatic() and len(automatic()) == 2, 30, "newer backups replacing the first")
    assert len([p for p in (data / "backups").glob("*.db") if "-auto-" not in p.name]) == 1  # the one by hand stays
    for path in automatic():
        todos_in(path)  # each one whole
    assert "Traceback" not in app.log()
