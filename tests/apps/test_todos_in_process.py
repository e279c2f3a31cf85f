"""The todo app in process (create_app and Starlette's TestClient): its markup, which is its
behaviour in an htmx app (what each control posts, which element it replaces, what a screen
reader says), and per-profile lookups. Fast, so scripts/mutate runs these; the same app through
the real server is in test_todos_over_http.py, in Chromium in tests/browser/."""

from __future__ import annotations

import asyncio
import re

import pytest
from fasthtml.common import to_xml

from pipulate.apps.todos import Todo, todo_editor, todo_item
from tests.support.markup import describe

HTMX = {"HX-Request": "true"}

ITEM = [
    "li#todo-7.todo.done data-id=7 draggable=true tabindex=0",
    "  input name=order type=hidden value=7",  # the list's hx-include sends these, in order
    "  span.drag-handle aria-hidden=true",
    "    '⋮⋮'",
    # Each control names what it does; the list says once how (LIST_CONTROLS), for every item.
    "  input aria-label='Done: Buy <milk>' checked data-do=toggle type=checkbox",
    "  button.text.todo-title data-do=edit title='Click to edit'",
    "    'Buy <milk>'",
    "  button.quiet.delete aria-label='Delete: Buy <milk>' data-do=delete",
    "    '✕'",
]
# pipulate.js sends the request for the control used, swapping its item (outerHTML), as these say.
LIST_CONTROLS = "data-do-delete='delete /todos/{id}' data-do-edit='get /todos/{id}/edit' data-do-toggle='post /todos/{id}/toggle'"

EDITOR = [
    "li#todo-7.todo.editing",
    "  input name=order type=hidden value=7",
    "  form data-editor enctype=multipart/form-data hx-put=/todos/7 hx-swap=outerHTML hx-target=#todo-7",
    "    input aria-label=Title autocomplete=off autofocus name=title value='Buy <milk>'",
    "    button",
    "      'Save'",
    "    button.secondary data-cancel hx-get=/todos/7 hx-swap=outerHTML hx-target=#todo-7 type=button",
    "      'Cancel'",
]

PANEL_HEAD = [
    "h2",
    "  'Todos'",
    "  span.badge",
    "    'Default'",
    "form#todo-add.inline-form data-reset-on-success enctype=multipart/form-data hx-disabled-elt='find button' "
    "hx-post=/todos hx-swap=beforeend hx-sync=this:drop hx-target=#todo-list name=todo-add",
    "  input aria-label='New todo' autocomplete=off name=title placeholder='What needs doing?'",
    "  button",
    "    'Add'",
    f"ul#todo-list.item-list {LIST_CONTROLS} data-sortable hx-include=this hx-post=/todos/reorder hx-swap=none "
    "hx-trigger=reordered",
]
PANEL_TAIL = [
    "p.empty-hint",
    "  'Nothing to do yet. Add a todo above.'",
    "p.hint",
    "  'Drag a todo to reorder it (or Alt+↑/↓). Click its title to edit.'",
]


def markup(*parts) -> list[str]:
    return describe("".join(to_xml(part) for part in parts))


def test_an_item_carries_its_controls_and_escapes_its_title():
    assert markup(todo_item(Todo(7, "Buy <milk>", True))) == ITEM
    not_done = markup(todo_item(Todo(7, "Buy <milk>", False)))
    assert not_done[0] == "li#todo-7.todo data-id=7 draggable=true tabindex=0"
    assert " checked " not in not_done[4] and not_done[1:] == [line.replace(" checked", "") for line in ITEM[1:]]
    assert "&lt;milk&gt;" in to_xml(todo_item(Todo(7, "Buy <milk>", True)))


def test_the_editor_puts_the_title_back_or_cancels_to_the_item():
    assert markup(todo_editor(Todo(7, "Buy <milk>", False))) == EDITOR


def test_the_panel_lists_the_selected_profiles_todos_in_their_order(app, client):
    core = app.state.core
    first = core.profiles.stored_selection().id
    other = core.profiles.create("Other").id
    core.db.execute(
        "INSERT INTO todos (id, profile_id, title, done, position) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)",
        [5, first, "second", 0, 2, 7, first, "Buy <milk>", 1, 1, 9, other, "not this profile's", 0, 1],
    )
    panel = markup(*asyncio.run(core.plugins["todos"].render(None)))
    items = [line for line in panel if line.startswith("  li#")]
    assert items == ["  li#todo-7.todo.done data-id=7 draggable=true tabindex=0",
                     "  li#todo-5.todo data-id=5 draggable=true tabindex=0"]
    assert panel == PANEL_HEAD + ["  " + line for line in ITEM] + ["  " + line for line in markup(
        todo_item(Todo(5, "second", False)))] + PANEL_TAIL


def test_every_control_of_an_item_is_answered(client):
    added = client.post("/todos", data={"title": "Water the plants"}, headers=HTMX)
    assert added.status_code == 200
    todo_id = re.search(r'id="todo-(\d+)"', added.text).group(1)
    names = re.findall(r'data-do="(\w+)"', added.text)
    declared = dict(re.findall(r'data-do-(\w+)="(\w+ [^"]+)"', client.get("/todos", headers=HTMX).text))
    controls = [tuple(declared[name].replace("{id}", todo_id).split()) for name in names]
    assert sorted(controls) == [("delete", f"/todos/{todo_id}"), ("get", f"/todos/{todo_id}/edit"),
                                ("post", f"/todos/{todo_id}/toggle")]
    assert "editing" in client.get(f"/todos/{todo_id}/edit", headers=HTMX).text
    assert "todo done" in client.post(f"/todos/{todo_id}/toggle", headers=HTMX).text
    assert 'class="todo done"' in client.get(f"/todos/{todo_id}", headers=HTMX).text  # read back done
    assert 'class="todo"' in client.post(f"/todos/{todo_id}/toggle", headers=HTMX).text  # and undone again
    client.post(f"/todos/{todo_id}/toggle", headers=HTMX)
    assert client.put(f"/todos/{todo_id}", data={"title": "Water them"}, headers=HTMX).status_code == 200
    assert "Water them" in client.get(f"/todos/{todo_id}", headers=HTMX).text
    assert client.delete(f"/todos/{todo_id}", headers=HTMX).status_code == 200
    assert client.get(f"/todos/{todo_id}", headers=HTMX).status_code == 404


@pytest.mark.parametrize("todo_id", ["abc", "0", "-3", "1.5", "99999"])
def test_malformed_and_unknown_ids_are_not_found(client, todo_id):
    response = client.get(f"/todos/{todo_id}", headers=HTMX)
    assert response.status_code == 404
    assert "No such todo" in response.text


def test_another_profiles_todo_is_not_found_and_is_left_alone(app, client):
    core = app.state.core
    mine = core.profiles.stored_selection().id
    other = core.profiles.create("Other").id
    core.db.execute("INSERT INTO todos (id, profile_id, title, done, position) VALUES (3, ?, 'theirs', 0, 1)", [other])
    for method, path in (("GET", "/todos/3"), ("GET", "/todos/3/edit"), ("PUT", "/todos/3"),
                         ("POST", "/todos/3/toggle"), ("DELETE", "/todos/3")):
        response = client.request(method, path, data={"title": "mine now"}, headers={**HTMX, "X-Pipulate-Profile": str(mine)})
        assert response.status_code == 404, (method, path)
        assert "No such todo: 3." in response.text
    assert core.db.execute("SELECT profile_id, title, done FROM todos").fetchall() == [(other, "theirs", 0)]
    # Its own page finds it.
    assert client.get("/todos/3", headers={**HTMX, "X-Pipulate-Profile": str(other)}).status_code == 200


def test_a_deleted_profiles_todos_go_with_it(app):
    core = app.state.core
    keep, gone = core.profiles.stored_selection().id, core.profiles.create("Gone").id
    core.db.execute("INSERT INTO todos (profile_id, title, position) VALUES (?, 'kept', 1), (?, 'dropped', 1)", [keep, gone])
    core.plugins["todos"].on_profile_deleted(gone)
    assert core.db.execute("SELECT profile_id, title FROM todos").fetchall() == [(keep, "kept")]


def test_the_list_is_ordered_by_position_then_id_whatever_the_query_plan(app):
    """The order is asked of SQLite, not left to the index it happens to use: without the index
    (or once statistics make the planner scan the table) rows would come in id order."""
    core = app.state.core
    profile = core.profiles.stored_selection().id
    core.db.execute("DROP INDEX idx_todos_profile_id_position")
    core.db.execute(
        "INSERT INTO todos (id, profile_id, title, position) VALUES (1, ?, 'third', 3), (2, ?, 'first', 1), "
        "(3, ?, 'second b', 2), (4, ?, 'second a', 2)",
        [profile] * 4,
    )
    assert [todo.title for todo in core.plugins["todos"].list_todos(profile)] == ["first", "second b", "second a", "third"]
