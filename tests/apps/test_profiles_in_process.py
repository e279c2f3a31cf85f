"""The profiles app in process (create_app and Starlette's TestClient): deleting a profile leaves
nothing of it in the file, and the page shows what it should. Fast, so scripts/mutate runs these."""

from __future__ import annotations

import re

import pytest

from pipulate._profiles import SELECTED_PROFILE_KEY

HTMX = {"HX-Request": "true"}


def rows(app, sql: str, *parameters) -> list[tuple]:
    return app.state.core.db.execute(sql, list(parameters)).fetchall()


def create(client, name: str) -> int:
    response = client.post("/profiles", data={"name": name}, headers=HTMX)
    assert response.status_code == 200, response.text
    return int(re.search(r'id="profile-(\d+)"', response.text).group(1))


def test_deleting_a_profile_deletes_its_chat_history_and_todos(app, client):
    core = app.state.core
    first = core.profiles.stored_selection().id
    second = create(client, "Second")
    for profile_id in (first, second):
        core.chat.history.add(profile_id, "user", f"a question from {profile_id}")
        core.chat.history.add(profile_id, "assistant", f"an answer for {profile_id}")
        client.post("/todos", data={"title": f"todo of {profile_id}"}, headers={**HTMX, "X-Pipulate-Profile": str(profile_id)})

    response = client.delete(f"/profiles/{second}", headers=HTMX)

    assert response.status_code == 200, response.text
    assert rows(app, "SELECT profile_id, content FROM chat_messages ORDER BY id") == [
        (first, f"a question from {first}"), (first, f"an answer for {first}"),
    ]
    assert rows(app, "SELECT profile_id, title FROM todos") == [(first, f"todo of {first}")]
    assert rows(app, "SELECT id FROM profiles") == [(first,)]


def test_the_last_profile_cannot_be_deleted_and_keeps_its_data(app, client):
    core = app.state.core
    only = core.profiles.stored_selection().id
    core.chat.history.add(only, "user", "kept")
    response = client.delete(f"/profiles/{only}", headers=HTMX)
    assert response.status_code == 422  # UserError: a sentence, nothing done
    assert "only profile" in response.text
    assert rows(app, "SELECT content FROM chat_messages") == [("kept",)]


def test_deleting_the_selected_profile_selects_the_first_remaining(app, client):
    core = app.state.core
    first = core.profiles.stored_selection().id
    second = create(client, "Second")
    third = create(client, "Third")
    assert client.post("/profiles/select", data={"profile_id": str(third)}, headers=HTMX).status_code == 200
    assert core.store[SELECTED_PROFILE_KEY] == third
    client.delete(f"/profiles/{third}", headers=HTMX)
    assert core.store[SELECTED_PROFILE_KEY] == first
    # Deleting one that is not selected leaves the selection alone.
    client.delete(f"/profiles/{second}", headers=HTMX)
    assert core.store[SELECTED_PROFILE_KEY] == first


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "99999"])
def test_unknown_or_malformed_profile_ids_are_4xx(client, bad):
    for method, path in (("GET", f"/profiles/{bad}"), ("GET", f"/profiles/{bad}/edit"),
                         ("DELETE", f"/profiles/{bad}"), ("PUT", f"/profiles/{bad}")):
        response = client.request(method, path, data={"name": "x"}, headers=HTMX)
        assert response.status_code in (400, 404), (method, path, response.status_code)
