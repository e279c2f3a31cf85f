"""The profiles app in process (create_app and Starlette's TestClient): deleting a profile leaves
nothing of it in the file, and the page shows what it should. Fast, so scripts/mutate runs these."""

from __future__ import annotations

import asyncio
import re

import pytest
from fasthtml.common import to_xml

from pipulate._profiles import SELECTED_PROFILE_KEY, Profile
from pipulate.apps.profiles import profile_editor, profile_item
from tests.support.markup import describe

HTMX = {"HX-Request": "true"}

SELECTED_ITEM = [
    "li#profile-3",
    "  button.text.profile-name hx-get=/profiles/3/edit hx-swap=outerHTML hx-target=#profile-3 title='Click to rename'",
    "    'Work & home'",
    "  span.badge",
    "    'Selected'",
    "  a.quiet-link aria-label='Export profile Work & home' download href=/profiles/3/export",
    "    'Export'",
    "  button.quiet.delete aria-label='Delete profile Work & home' hx-confirm='Delete the profile “Work & home” and "
    "all its data?' hx-delete=/profiles/3 hx-swap=innerHTML hx-target=#app-panel",
    "    'Delete'",
]
SELECT_BUTTON = [
    "  button.secondary hx-post=/profiles/select hx-swap=innerHTML hx-target=#app-panel hx-vals='{\"profile_id\": 3}'",
    "    'Select'",
]
EDITOR = [
    "li#profile-3",
    "  form data-editor enctype=multipart/form-data hx-put=/profiles/3 hx-swap=outerHTML hx-target=#profile-3",
    "    input aria-label='Profile name' autocomplete=off autofocus name=name value='Work & home'",
    "    button",
    "      'Save'",
    "    button.secondary data-cancel hx-get=/profiles/3 hx-swap=outerHTML hx-target=#profile-3 type=button",
    "      'Cancel'",
]
PANEL_HEAD = [
    "h2",
    "  'Profiles'",
    "form#profile-add.inline-form data-reset-on-success enctype=multipart/form-data hx-disabled-elt='find button' "
    "hx-post=/profiles hx-swap=beforeend hx-sync=this:drop hx-target=#profile-list name=profile-add",
    "  input aria-label='New profile name' autocomplete=off name=name placeholder='New profile name'",
    "  button",
    "    'Create'",
    "ul#profile-list.item-list",
]
PANEL_TAIL = [
    "p.hint",
    "  'Click a name to rename it. Each profile has its own todos and chat history.'",
    "form#profile-import.inline-form.transfer data-reset-on-success enctype=multipart/form-data "
    "hx-encoding=multipart/form-data hx-post=/profiles/import hx-swap=beforeend hx-sync=this:drop hx-target=#profile-list "
    "name=profile-import",
    "  label",
    "    'Import a profile'",
    "    input accept=.zip aria-label='Profile file to import' name=file required type=file",
    "  button.secondary",
    "    'Import'",
    "p.hint",
    "  \"Export gives one file with a profile's todos, chat, settings and workflow runs (their result files too); "
    "importing it here, or in another copy of the app, makes a new profile.\"",
]


def markup(*parts) -> list[str]:
    return describe("".join(to_xml(part) for part in parts))


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


# --- markup: what each control does ------------------------------------------------------------------


def test_a_profile_item_offers_rename_select_and_delete():
    assert markup(profile_item(Profile(3, "Work & home"), selected=True)) == SELECTED_ITEM
    not_selected = markup(profile_item(Profile(3, "Work & home"), selected=False))
    assert not_selected == SELECTED_ITEM[:3] + SELECT_BUTTON + SELECTED_ITEM[5:]
    assert "Work &amp; home" in to_xml(profile_item(Profile(3, "Work & home"), selected=True))


def test_the_editor_renames_or_cancels_to_the_item():
    assert markup(profile_editor(Profile(3, "Work & home"))) == EDITOR


def test_the_panel_lists_every_profile_in_order_and_marks_the_selected_one(app):
    core = app.state.core
    first = core.profiles.stored_selection()
    second = core.profiles.create("Second")
    panel = markup(*asyncio.run(core.plugins["profiles"].render(None)))
    items = markup(profile_item(first, selected=True), profile_item(second, selected=False))
    assert panel == PANEL_HEAD + ["  " + line for line in items] + PANEL_TAIL
