"""A full disk: writes answer 507 with a sentence (never a 500 with apsw.FullError's traceback),
nothing half-written is kept, and reads go on working.

The server runs in its own mount namespace with its data dir on a small tmpfs (`unshare -m`;
`unshare -Urm` when not root), so the disk really fills up, and only for this server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.apps.test_chat_over_websocket import ERROR, connect, receive
from tests.apps.test_todos_over_http import HTMX, listing
from tests.support.requirements import require
from tests.support.server import assert_no_traceback, start_server
from tests.support.timing import scaled

TITLE = "x" * 190


def mount_namespace_wrapper(data_dir, size: str) -> list[str]:
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-Urm"]
    return [*unshare, "--", "sh", "-c", f'mount -t tmpfs -o size={size} tmpfs "{data_dir}" && exec "$@"', "sh"]


def can_mount_a_tmpfs(tmp_path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*mount_namespace_wrapper(tmp_path, "64k"), "true"], capture_output=True, timeout=scaled(10))
    return probe.returncode == 0


@pytest.fixture
def full_disk_server(tmp_path):
    require(can_mount_a_tmpfs(tmp_path), "A private tmpfs mount (unshare -m)", "apt-get install util-linux (run as root or allow user namespaces)")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = start_server(data_dir, wrapper=mount_namespace_wrapper(data_dir, "400k"))
    yield server
    server.stop()
    assert_no_traceback(server)


def test_writes_on_a_full_disk_answer_507_and_reads_go_on(full_disk_server):
    server = full_disk_server
    with server.client() as client:
        saved, answer = [], None
        for number in range(2_000):  # fills 400 KB long before this
            answer = client.post("/todos", data={"title": f"{number} {TITLE}"}, headers=HTMX)
            if answer.status_code != 200:
                break
            saved.append(f"{number} {TITLE}")
        assert answer.status_code == 507, (answer.status_code, answer.text[:300])
        assert "The disk is full; nothing was saved." in answer.text
        assert answer.headers["HX-Retarget"] == "#flash"
        assert len(saved) > 5
        # Reads: the page, the list (every todo saved before is there, the refused one is not).
        assert client.get("/").status_code == 200
        assert [item.title for item in listing(client)] == saved
        # A full page load from the app's own menu tries to remember the app: that must not fail it.
        assert client.get("/profiles", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
        # The chat: the message cannot be stored, and the page is told so in a sentence.
        with connect(server) as ws:
            ws.send(json.dumps({"action": "chat", "message": "hello"}))
            errors = ERROR.findall(receive(ws, 5))
            assert errors == ["The disk is full; nothing was saved. Free some space, then try again."]
    log = server.log()
    assert "Traceback" not in log and "FullError" not in log, log[-3000:]
    assert "the disk is full" in log  # one line for whoever reads the log
