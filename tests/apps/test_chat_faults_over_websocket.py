"""What a model server may send that no real model produces on demand, through the real app and a
real WebSocket: a scripted OpenAI-compatible server (tests/support/scripted_model_server.py)
stands in for the model. Each fault must end like any other model fault: a readable message,
the chat back to idle, what arrived kept, the socket open, no traceback in the log.
"""

from __future__ import annotations

import json
import time

import httpx

from tests.apps.test_chat_over_websocket import HTMX, IDLE, chat, connect, shown_history
from tests.apps.test_todos_over_http import add, create_profile
from tests.support.database import query
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.timing import scaled

DEEP_EVENT = b"data: " + b"[" * 50_000 + b"\n\n"


def start(servers, model_server):
    return servers("--llm-url", model_server.url, "--model", MODEL)


def test_a_lone_surrogate_in_a_reply_ends_it_normally(servers):
    with ScriptedModelServer(lambda messages: ["Hello", " \ud800", " world", "\ud83d", "\ude00"]) as model:
        app = start(servers, model)
        with connect(app) as ws:
            reply = chat(ws, "say something odd", stop_after=None, timeout=10)
            assert reply.errors == [] and reply.final, reply.frames
            assert reply.text == "Hello \ufffd world😀"  # the pair split across two events is rejoined
            # The socket is still open and the chat idle: another message gets its reply.
            assert chat(ws, "again", stop_after=None, timeout=10).final
        stored = query(app.data_dir / "pipulate.db", "SELECT content FROM chat_messages WHERE role = 'assistant'")
        assert stored[0] == ("Hello \ufffd world😀",)
        assert [m.role for m in shown_history(app)] == ["user", "assistant", "user", "assistant"]
    assert "never retrieved" not in app.log()


def test_events_that_are_not_what_the_api_documents_fail_the_reply_readably(servers):
    scripts = [
        ["kept so far", b"data: 5\n\n"],
        ["kept so far", b'data: {"choices": 5}\n\n'],
        ["kept so far", b'data: {"choices": [{"delta": "text"}]}\n\n'],
        ["kept so far", b'data: {"choices": [{"delta": {"content": 7}}]}\n\n', " and more"],
        ["kept so far", DEEP_EVENT],
        ["kept so far", b"data: {not json\n\n"],
    ]
    current = {}
    with ScriptedModelServer(lambda messages: current["script"]) as model:
        app = start(servers, model)
        with connect(app) as ws:
            for script in scripts:
                current["script"] = script
                reply = chat(ws, "go", stop_after=None, timeout=10)
                assert reply.text.startswith("kept so far"), (script, reply.frames)
                if len(script) == 3:  # a content that is not text is skipped, the reply goes on
                    assert reply.errors == [] and reply.text == "kept so far and more"
                else:
                    assert len(reply.errors) == 1 and f"The server at {model.url}" in reply.errors[0], reply.frames
                assert IDLE in reply.frames[-1]
    assert "Traceback" not in app.log()


def test_a_profiles_reply_that_ends_after_the_profile_was_deleted_lands_nowhere(servers):
    """Deleting a profile while its reply streams: the reply stops, nothing of it is stored, and
    the next profile created gets a new id (ids are never reused), with an empty chat."""
    with ScriptedModelServer(lambda messages: ["slow "] * 40, delay=0.05) as model:
        app = start(servers, model)
        with app.client() as client:
            keep = create_profile(client, "Keep")
            doomed = create_profile(client, "Doomed")
            client.post("/profiles/select", data={"profile_id": doomed}, headers=HTMX)
            with connect(app) as ws:
                ws.send(json.dumps({"action": "chat", "message": "tell me slowly"}))
                deadline = time.monotonic() + scaled(5)
                while "slow" not in ws.recv(timeout=scaled(5)) and time.monotonic() < deadline:
                    pass
                deleted = client.delete(f"/profiles/{doomed}", headers=HTMX)
                assert deleted.status_code == 200
                # The reply ends (the page goes idle); it stores nothing after that.
                deadline = time.monotonic() + scaled(5)
                while IDLE not in ws.recv(timeout=max(0.01, deadline - time.monotonic())):
                    pass
            database = app.data_dir / "pipulate.db"
            assert query(database, "SELECT count(*) FROM chat_messages WHERE profile_id = ?", [doomed]) == [(0,)]
            newer = create_profile(client, "Newer")
            assert newer > doomed > keep
            client.post("/profiles/select", data={"profile_id": newer}, headers=HTMX)
            assert shown_history(app) == []
    assert "Traceback" not in app.log()


def test_todo_ids_are_never_reused_so_a_stale_button_cannot_reach_a_new_todo(server):
    with server.client() as client:
        first = add(client, "first")
        last = add(client, "last")
        assert client.delete(f"/todos/{last}", headers=HTMX).status_code == 200
        newer = add(client, "newer")
        assert newer > last > first
        # A stale tab still shows "last" and presses its Delete: the todo is gone, and "newer" stays.
        stale = client.delete(f"/todos/{last}", headers=HTMX)
        assert stale.status_code == 404 and "No such todo" in stale.text
        listed = httpx.get(server.url + "/todos", headers=HTMX).text
        assert f'id="todo-{newer}"' in listed and f'id="todo-{first}"' in listed
