"""Workflows through the real server (`pipulate serve`, its own data dir): runs with their own
URLs, forms that answer with sentences, revert, finalize, profiles, jobs, and table results."""

from __future__ import annotations

import csv
import io
import socket

import pytest

from tests._workflows.support import HTMX, body, install_samples, new_run, step_states, submit, wait_for_state
from tests.apps.test_todos_over_http import create_profile, select_profile
from tests.support.database import query, snapshot
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.timing import scaled


@pytest.fixture
def app(servers, tmp_path):
    install_samples(tmp_path)
    return servers()


def test_a_run_has_its_own_url_and_a_readable_key(app):
    with app.client() as client:
        key = new_run(client, "chain")
        assert key == "default-chain-01"
        page = client.get(f"/chain/runs/{key}")  # a bookmark or a reload: the whole page
        assert page.status_code == 200 and "<title>default-chain-01" in page.text
        assert step_states(page.text) == {"pick": "form", "joined": "later", "shout": "later", "independent": "later"}
        assert new_run(client, "chain") == "default-chain-02"
        listing = client.get("/chain", headers=HTMX).text
        assert "default-chain-01" in listing and "default-chain-02" in listing and "waiting for input" in listing


def test_bad_values_answer_422_with_a_sentence_next_to_the_field_and_store_nothing(app):
    with app.client() as client:
        key = new_run(client, "kinds")
        before = snapshot(app.data_dir / "pipulate.db")["workflow_steps"]
        html = submit(client, "kinds", key, "fields", status=422, title="", pages="0", ratio="x", mode="crawl",
                      site="javascript:alert(1)", keywords="a\n\x00")
        for message in ("Title is needed.", "Pages must be at least 1.", "Ratio must be a number.",
                        "Mode must be one of: spider, list.", "must start with http:// or https://", "control characters"):
            assert message in html, message
        assert 'aria-invalid="true"' in html and 'class="field-error"' in html
        assert 'value="0"' in html  # what was typed is still in the form
        assert snapshot(app.data_dir / "pipulate.db")["workflow_steps"] == before
        done = submit(client, "kinds", key, "fields", title="Site audit", pages="20", deep="on", size="l",
                      keywords="a\nb", site="https://example.org/")
        assert step_states(done) == {"fields": "done"}
        assert "Site audit" in done and "https://example.org/" in done


def test_revert_makes_dependents_stale_and_reruns_those_that_need_no_input(app):
    with app.client() as client:
        key = new_run(client, "chain")
        submit(client, "chain", key, "pick", words="alpha\nbeta", count="2")
        submit(client, "chain", key, "shout", times="1")
        html = submit(client, "chain", key, "independent", note="kept")
        assert step_states(html) == {"pick": "done", "joined": "done", "shout": "done", "independent": "done"}
        edit = client.get(f"/chain/runs/{key}/steps/pick/edit", headers=HTMX)
        assert edit.status_code == 200 and "alpha\nbeta</textarea>" in edit.text  # the form, prefilled
        html = submit(client, "chain", key, "pick", words="gamma\ndelta", count="2")
        assert step_states(html) == {"pick": "done", "joined": "done", "shout": "done", "independent": "done"}
        assert "GAMMA DELTA" in html and "ALPHA" not in html


def test_finalize_locks_the_run_and_unfinalize_unlocks_it(app):
    with app.client() as client:
        key = new_run(client, "chain")
        submit(client, "chain", key, "pick", words="a")
        submit(client, "chain", key, "shout")
        submit(client, "chain", key, "independent")
        locked = client.post(f"/chain/runs/{key}/finalize", headers=HTMX)
        assert locked.status_code == 200 and "finalized" in locked.text and "Change" not in locked.text
        refused = client.post(f"/chain/runs/{key}/steps/pick", data={"words": "b"}, headers=HTMX)
        assert refused.status_code == 409 and "finalized" in refused.text
        assert client.get(f"/chain/runs/{key}/steps/pick/edit", headers=HTMX).status_code == 409
        assert client.post(f"/chain/runs/{key}/unfinalize", headers=HTMX).status_code == 200
        assert "B" in submit(client, "chain", key, "pick", words="b")


def test_two_runs_in_two_tabs_never_touch_each_other(app):
    with app.client() as tab_a, app.client() as tab_b:
        first, second = new_run(tab_a, "chain"), new_run(tab_b, "chain")
        submit(tab_a, "chain", first, "pick", words="from a")
        submit(tab_b, "chain", second, "pick", words="from b")
        assert "FROM A" not in body(tab_b, "chain", second) and "from a" in body(tab_a, "chain", first)
        assert "from b" not in body(tab_a, "chain", first)


def test_another_profiles_run_unknown_keys_and_steps_are_404(app):
    with app.client() as client:
        key = new_run(client, "chain")
        other = create_profile(client, "Other")
        select_profile(client, other)
        for path in (f"/chain/runs/{key}", f"/chain/runs/{key}/body", f"/chain/runs/{key}/steps/pick/edit"):
            assert client.get(path, headers=HTMX).status_code == 404, path
        assert client.post(f"/chain/runs/{key}/steps/pick", data={"words": "x"}, headers=HTMX).status_code == 404
        assert client.delete(f"/chain/runs/{key}", headers=HTMX).status_code == 404
        select_profile(client, 1)
        for path in ("/chain/runs/default-chain-77", "/chain/runs/..%2F..%2Fetc", "/chain/runs/DROP TABLE",
                     f"/chain/runs/{key}/steps/nope/edit", f"/kinds/runs/{key}"):
            assert client.get(path, headers=HTMX).status_code == 404, path
        # Another profile's run with the same workflow: its key names that profile.
        select_profile(client, other)
        assert new_run(client, "chain") == "other-chain-01"
    assert "Traceback" not in app.log()


def test_a_failing_step_shows_its_error_with_retry_and_keeps_earlier_results(app):
    with app.client() as client:
        key = new_run(client, "big-table")
        submit(client, "big-table", key, "rows", count="3")
        html = submit(client, "big-table", key, "rows", count="13")
        assert step_states(html) == {"rows": "failed", "summary": "stale"}
        assert "ValueError: thirteen rows are unlucky" in html and "Retry" in html
        assert "Traceback" not in html
        fixed = submit(client, "big-table", key, "rows", count="4")
        assert step_states(fixed) == {"rows": "done", "summary": "done"}
    assert "Traceback" not in app.log()


def test_a_large_table_is_previewed_page_by_page_and_downloads_whole(app):
    from openpyxl import load_workbook

    with app.client(timeout=scaled(120)) as client:
        key = new_run(client, "big-table")
        html = submit(client, "big-table", key, "rows", count="200000")
        assert "200,000 rows × 4 columns" in html
        assert (app.data_dir / "runs" / key / "rows.parquet").is_file()
        stored = query(app.data_dir / "pipulate.db", "SELECT result_kind, result_info FROM workflow_steps WHERE step = 'rows'")
        assert stored[0][0] == "file" and '"rows": 200000' in stored[0][1]
        page = client.get(f"/big-table/runs/{key}/steps/rows/preview?page=3", headers=HTMX)
        assert page.status_code == 200 and "Page 3 of 4,000" in page.text and "row 100" in page.text
        assert client.get(f"/big-table/runs/{key}/steps/rows/preview?page=abc", headers=HTMX).status_code == 200
        download = client.get(f"/big-table/runs/{key}/steps/rows/download.csv")
        assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
        assert len(rows) == 200_001 and rows[-1][0] == "199999"
        workbook = client.get(f"/big-table/runs/{key}/steps/rows/download.xlsx")
        assert workbook.status_code == 200
        sheet = load_workbook(io.BytesIO(workbook.content), read_only=True).active
        assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 200_001
        assert client.get(f"/big-table/runs/{key}/steps/summary/download.csv").status_code == 404


def test_the_hello_workflow_end_to_end_with_the_local_model(servers, llama_server):
    app = servers("--llm-url", llama_server.url, "--model", "smollm2")
    with app.client() as client:
        key = new_run(client, "hello")
        html = submit(client, "hello", key, "greeting", name="Ada", tone="pirate")
        assert "Ahoy, Ada!" in html and step_states(html)["poem"] == "running"
        html = wait_for_state(client, "hello", key, "poem", ("done", "failed"), timeout=90)
        assert step_states(html)["poem"] == "done", html
        assert "Answered by smollm2" in html and "Write a two-line poem that starts with: Ahoy, Ada!" in html
        poem = query(app.data_dir / "pipulate.db", "SELECT result, model FROM workflow_steps WHERE step = 'poem'")
        assert len(poem[0][0]) > 5 and poem[0][1] == "smollm2"


def test_the_chat_knows_which_run_the_page_shows(servers, tmp_path):
    install_samples(tmp_path)
    with ScriptedModelServer(lambda messages: ["ok"]) as model:
        app = servers("--llm-url", model.url, "--model", MODEL)
        with app.client() as client:
            key = new_run(client, "chain")
            submit(client, "chain", key, "pick", words="alpha\nbeta")
        from tests.apps.test_chat_over_websocket import connect, read_reply

        with connect(app) as ws:
            import json

            ws.send(json.dumps({"action": "chat", "message": "what did we find?",
                                "HEADERS": {"HX-Current-URL": f"{app.url}/chain/runs/{key}"}}))
            read_reply(ws, timeout=10)
        system = model.received[-1]["messages"][0]["content"]
        assert "Chain" in system and key in system and "Picks words, joins them, shouts them." in system
        assert "The current step is “Shout”" in system and "Join them: alpha beta" in system


def test_a_failed_job_shows_its_error_in_the_card_with_retry(servers, tmp_path):
    """hello's second step asks a model server that is not there: a sentence and Retry, no 500."""
    from tests.support.server import free_port

    app = servers("--llm-url", f"http://127.0.0.1:{free_port()}")
    with app.client() as client:
        key = new_run(client, "hello")
        submit(client, "hello", key, "greeting", name="Ada")
        html = wait_for_state(client, "hello", key, "poem", ("failed",), timeout=30)
        assert "No model server answers at http://127.0.0.1:" in html and "Retry" in html
        assert "Ahoy" not in html and "Hi, Ada!" in html  # the earlier result is intact
        retried = client.post(f"/hello/runs/{key}/steps/poem/retry", headers=HTMX)
        assert retried.status_code == 200 and step_states(retried.text)["poem"] in ("running", "failed")
    assert "Traceback" not in app.log()


def test_a_file_upload_is_kept_in_the_runs_folder_and_oversize_is_refused(app):
    with app.client(timeout=60) as client:
        key = new_run(client, "uploads")
        content = ("line of the report\n" * 120_000).encode()  # 2.2 MB: more than a form's 1 MB
        answer = client.post(f"/uploads/runs/{key}/steps/upload", files={"report": ("../../etc/report.csv", content, "text/csv")},
                             headers=HTMX)
        assert answer.status_code == 200, answer.text[:300]
        assert "report.csv" in answer.text and f"{len(content):,}" in answer.text
        kept = list((app.data_dir / "runs" / key / "uploads").iterdir())
        assert len(kept) == 1 and kept[0].read_bytes() == content and ".." not in kept[0].name
        empty = client.post(f"/uploads/runs/{key}/steps/upload", data={"report": ""}, headers=HTMX)
        assert empty.status_code == 422 and "choose a file to upload" in empty.text
        # 60 MB announced: refused from its headers alone, before a byte of the body is read.
        with socket.create_connection(("127.0.0.1", app.port), timeout=10) as raw:
            raw.sendall(f"POST /uploads/runs/{key}/steps/upload HTTP/1.1\r\nHost: 127.0.0.1:{app.port}\r\n"
                        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 62914560\r\n\r\n".encode())
            assert raw.recv(100).startswith(b"HTTP/1.1 413")
        # Elsewhere the 1 MB limit stands.
        assert client.post("/todos", data={"title": "x" * 1_100_000}, headers=HTMX).status_code == 413
