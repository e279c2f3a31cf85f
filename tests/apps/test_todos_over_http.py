"""The todos app through the real server (`python -m pipulate serve` in a subprocess), over HTTP.

Every answer is checked for its status; the list is read back with `GET /todos` (htmx fragment)
and parsed, so a test sees what the browser would show. No request may end in a 500, and the
server's log may hold no traceback.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from html.parser import HTMLParser

from tests.support.server import start_server

HTMX = {"HX-Request": "true"}
TODO_ID = re.compile(r'id="todo-(\d+)"')
PROFILE_ID = re.compile(r'id="profile-(\d+)"')


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    done: bool


class _TodoListParser(HTMLParser):
    """The todos of a rendered list: id, title (the text of the title button) and done state."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[dict] = []
        self.badge: list[str] = []
        self._in_title = False
        self._in_badge = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        match = re.fullmatch(r"todo-(\d+)", attributes.get("id") or "")
        if tag == "li" and match:
            self.items.append({
                "id": int(match.group(1)), "title": "", "class_done": "done" in classes, "checked": False,
            })
        elif tag == "input" and attributes.get("type") == "checkbox" and self.items:
            self.items[-1]["checked"] = "checked" in attributes
        elif tag == "button" and "todo-title" in classes and self.items:
            self._in_title = True
        elif tag == "span" and "badge" in classes:
            self._in_badge = True
            self.badge.append("")

    def handle_endtag(self, tag):
        if tag == "button":
            self._in_title = False
        if tag == "span":
            self._in_badge = False

    def handle_data(self, data):
        if self._in_title:
            self.items[-1]["title"] += data
        if self._in_badge:
            self.badge[-1] += data


def parse_items(html: str) -> list[Item]:
    parser = _TodoListParser()
    parser.feed(html)
    parser.close()
    items = []
    for raw in parser.items:
        # The class and the checkbox must agree on whether the todo is done.
        assert raw["class_done"] == raw["checked"], f"todo {raw['id']}: class and checkbox disagree"
        items.append(Item(raw["id"], raw["title"], raw["checked"]))
    return items


def listing(client) -> list[Item]:
    response = client.get("/todos", headers=HTMX)
    assert response.status_code == 200, response.text
    return parse_items(response.text)


def selected_badge(client) -> str:
    parser = _TodoListParser()
    parser.feed(client.get("/todos", headers=HTMX).text)
    return parser.badge[0]


def add(client, title: str) -> int:
    response = client.post("/todos", data={"title": title}, headers=HTMX)
    assert response.status_code == 200, response.text
    ids = TODO_ID.findall(response.text)
    assert len(ids) == 1, response.text
    return int(ids[0])


def create_profile(client, name: str) -> int:
    response = client.post("/profiles", data={"name": name}, headers=HTMX)
    assert response.status_code == 200, response.text
    return int(PROFILE_ID.search(response.text).group(1))


def select_profile(client, profile_id: int) -> None:
    response = client.post("/profiles/select", data={"profile_id": str(profile_id)}, headers=HTMX)
    assert response.status_code == 200, response.text


def default_profile_id(client) -> int:
    response = client.get("/profiles", headers=HTMX)
    assert response.status_code == 200
    return int(PROFILE_ID.search(response.text).group(1))


def assert_refused(response, status: int) -> None:
    """A 4xx with a readable message aimed at the page's message area, never a 500."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers.get("HX-Retarget") == "#flash"
    assert 'role="alert"' in response.text
    assert "Traceback" not in response.text


def assert_clean_log(server) -> None:
    log = server.log()
    assert "Traceback" not in log, log
    assert "error while answering" not in log, log


# --- the basic actions ---------------------------------------------------------------------------


def test_add_edit_toggle_delete_reorder(server):
    with server.client() as client:
        assert listing(client) == []
        first, second, third = (add(client, title) for title in ("Buy milk", "Write tests", "Ship it"))
        assert len({first, second, third}) == 3
        assert listing(client) == [
            Item(first, "Buy milk", False), Item(second, "Write tests", False), Item(third, "Ship it", False),
        ]

        # Show and edit.
        shown = client.get(f"/todos/{second}", headers=HTMX)
        assert shown.status_code == 200 and parse_items(shown.text) == [Item(second, "Write tests", False)]
        editor = client.get(f"/todos/{second}/edit", headers=HTMX)
        assert editor.status_code == 200
        assert f'id="todo-{second}"' in editor.text and 'value="Write tests"' in editor.text
        updated = client.put(f"/todos/{second}", data={"title": "  Write   more\ttests "}, headers=HTMX)
        assert updated.status_code == 200
        assert parse_items(updated.text) == [Item(second, "Write more tests", False)]

        # Toggle on, and off again.
        toggled = client.post(f"/todos/{first}/toggle", headers=HTMX)
        assert toggled.status_code == 200 and parse_items(toggled.text) == [Item(first, "Buy milk", True)]
        assert listing(client)[0] == Item(first, "Buy milk", True)
        client.post(f"/todos/{third}/toggle", headers=HTMX)
        client.post(f"/todos/{third}/toggle", headers=HTMX)
        assert listing(client)[2] == Item(third, "Ship it", False)

        # Reorder: the named ids first, in order; the others keep their order after them.
        fourth = add(client, "Celebrate")
        reordered = client.post("/todos/reorder", data={"order": [str(third), str(first)]}, headers=HTMX)
        assert reordered.status_code == 200
        assert [item.id for item in listing(client)] == [third, first, second, fourth]
        reordered = client.post(
            "/todos/reorder", data={"order": [str(fourth), str(second), str(first), str(third)]}, headers=HTMX
        )
        assert reordered.status_code == 200
        assert [item.id for item in listing(client)] == [fourth, second, first, third]
        # Naming a todo twice changes nothing.
        assert_refused(
            client.post("/todos/reorder", data={"order": [str(first), str(first)]}, headers=HTMX), 422
        )
        assert [item.id for item in listing(client)] == [fourth, second, first, third]
        # A new todo goes to the end of the new order.
        fifth = add(client, "Rest")
        assert [item.id for item in listing(client)][-1] == fifth

        # Delete: gone from the list, and its id is now a 404.
        deleted = client.delete(f"/todos/{second}", headers=HTMX)
        assert deleted.status_code == 200 and deleted.text == ""
        assert second not in [item.id for item in listing(client)]
        for method, path in (("GET", f"/todos/{second}"), ("DELETE", f"/todos/{second}"),
                             ("POST", f"/todos/{second}/toggle")):
            assert_refused(client.request(method, path, headers=HTMX), 404)
        assert listing(client) == [
            Item(fourth, "Celebrate", False), Item(first, "Buy milk", True),
            Item(third, "Ship it", False), Item(fifth, "Rest", False),
        ]

        # Without HX-Request the same URL is the whole page, with the list in it.
        page = client.get("/todos")
        assert page.status_code == 200 and page.text.lstrip().lower().startswith("<!doctype html>")
        assert [item.id for item in parse_items(page.text)] == [fourth, first, third, fifth]
    assert_clean_log(server)


def test_everything_survives_a_restart_including_the_selected_profile(server):
    with server.client() as client:
        profile_a = default_profile_id(client)
        a_ids = [add(client, f"A{n}") for n in range(4)]
        client.post(f"/todos/{a_ids[1]}/toggle", headers=HTMX)
        client.put(f"/todos/{a_ids[2]}", data={"title": "A2 edited"}, headers=HTMX)
        client.post("/todos/reorder", data={"order": [str(a_ids[3]), str(a_ids[0])]}, headers=HTMX)
        expected_a = listing(client)
        assert [item.id for item in expected_a] == [a_ids[3], a_ids[0], a_ids[1], a_ids[2]]

        profile_b = create_profile(client, "Work")
        select_profile(client, profile_b)
        b_ids = [add(client, f"B{n}") for n in range(3)]
        client.post(f"/todos/{b_ids[2]}/toggle", headers=HTMX)
        expected_b = listing(client)
        assert selected_badge(client) == "Work"

    assert server.stop(signal.SIGTERM) is not None
    restarted = start_server(server.data_dir)
    try:
        with restarted.client() as client:
            # Still profile B, with its list as it was.
            assert selected_badge(client) == "Work"
            assert listing(client) == expected_b
            page = client.get("/")
            assert re.search(rf'<option value="{profile_b}" selected>Work</option>', page.text), page.text
            select_profile(client, profile_a)
            assert listing(client) == expected_a
            assert [item.done for item in expected_a] == [False, False, True, False]
            assert next(item for item in expected_a if item.id == a_ids[2]).title == "A2 edited"
        assert_clean_log(restarted)
    finally:
        restarted.stop()
    assert_clean_log(server)


def test_todos_of_another_profile_are_not_found(server):
    with server.client() as client:
        profile_a = default_profile_id(client)
        a_first, a_second = add(client, "A's first"), add(client, "A's second")
        expected_a = listing(client)

        profile_b = create_profile(client, "B")
        select_profile(client, profile_b)
        b_first, b_second = add(client, "B's first"), add(client, "B's second")
        expected_b = listing(client)

        for target in (a_first, a_second):
            assert_refused(client.get(f"/todos/{target}", headers=HTMX), 404)
            assert_refused(client.get(f"/todos/{target}/edit", headers=HTMX), 404)
            assert_refused(client.put(f"/todos/{target}", data={"title": "hijacked"}, headers=HTMX), 404)
            assert_refused(client.post(f"/todos/{target}/toggle", headers=HTMX), 404)
            assert_refused(client.delete(f"/todos/{target}", headers=HTMX), 404)
        for order in ([b_second, a_first], [a_second], [a_first, a_second, b_first, b_second]):
            response = client.post("/todos/reorder", data={"order": [str(i) for i in order]}, headers=HTMX)
            assert_refused(response, 404)
        assert listing(client) == expected_b

        select_profile(client, profile_a)
        assert listing(client) == expected_a
        # And B's todos are as foreign from A.
        assert_refused(client.post(f"/todos/{b_first}/toggle", headers=HTMX), 404)
        assert_refused(client.delete(f"/todos/{b_second}", headers=HTMX), 404)
        select_profile(client, profile_b)
        assert listing(client) == expected_b
    assert_clean_log(server)


# --- bad input -----------------------------------------------------------------------------------


def test_bad_titles_are_refused_and_nothing_is_stored(server):
    with server.client() as client:
        kept = add(client, "Keep me")
        before = listing(client)
        for title in ("x" * 201, "", "   ", "\t\n", "bell\x07"):
            assert_refused(client.post("/todos", data={"title": title}, headers=HTMX), 422)
            assert_refused(client.put(f"/todos/{kept}", data={"title": title}, headers=HTMX), 422)
        # No title field at all.
        assert_refused(client.post("/todos", headers=HTMX), 422)
        assert listing(client) == before
        # The limit itself is allowed; spaces around do not count.
        longest = add(client, " " + "y" * 200 + " ")
        assert listing(client)[-1] == Item(longest, "y" * 200, False)
    assert_clean_log(server)


BAD_IDS = ["abc", "1.5", "0", "-1", "1e3", "0x10", str(2**63), "9" * 30, "9" * 5000, "%20", "999999"]


def test_bad_and_unknown_ids_are_404(server):
    with server.client() as client:
        add(client, "Exists")
        before = listing(client)
        for todo_id in BAD_IDS:
            assert_refused(client.get(f"/todos/{todo_id}", headers=HTMX), 404)
            assert_refused(client.get(f"/todos/{todo_id}/edit", headers=HTMX), 404)
            assert_refused(client.put(f"/todos/{todo_id}", data={"title": "t"}, headers=HTMX), 404)
            assert_refused(client.post(f"/todos/{todo_id}/toggle", headers=HTMX), 404)
            assert_refused(client.delete(f"/todos/{todo_id}", headers=HTMX), 404)
            assert_refused(client.post("/todos/reorder", data={"order": [todo_id]}, headers=HTMX), 404)
        assert listing(client) == before
    assert_clean_log(server)


def test_oversized_malformed_and_unknown_requests(server):
    with server.client() as client:
        before = listing(client)

        # 2 MB: refused before it is read.
        response = client.post(
            "/todos", content=b"title=" + b"a" * (2 * 1024 * 1024),
            headers={**HTMX, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413, response.text
        assert "too large" in response.text.lower()

        # Malformed bodies: a 4xx with a message, never a 500.
        malformed = [
            ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=title\r\n\r\nhi\r\n--x--\r\n"),
            ("multipart/form-data; boundary=zzz", b"garbage that is not multipart at all, not even close"),
            ("multipart/form-data; boundary=zzz", b"--zzz\r\nNoColonHeader\r\n\r\nhi\r\n--zzz--\r\n"),
            ("multipart/form-data; boundary=zzz", b"--zzz\r\nContent-Disposition: form-data\r\n\r\nhi\r\n--zzz--\r\n"),
            ("application/json", b"{not json"),
            ("application/json", b"[1, 2, 3]"),
            ("application/json", b'{"title": 5}'),
        ]
        for content_type, body in malformed:
            response = client.post("/todos", content=body, headers={**HTMX, "Content-Type": content_type})
            assert 400 <= response.status_code < 500, (content_type, body, response.status_code, response.text)
            assert response.headers.get("HX-Retarget") == "#flash", response.text
        response = client.post(
            "/todos/reorder", content=b"{not json", headers={**HTMX, "Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500
        assert listing(client) == before

        # Unknown routes and methods.
        assert_refused(client.get("/no-such-page", headers=HTMX), 404)
        assert client.get("/no-such-page").status_code == 404
        assert_refused(client.get("/todos/1/nothing-here", headers=HTMX), 404)
        assert_refused(client.patch("/todos", headers=HTMX), 405)
    assert_clean_log(server)


def test_too_large_answer_goes_to_the_message_area(server):
    """A 413 to an htmx request is an error like the others: aimed at #flash, so htmx does not
    append the message to the todo list (the add form's target, with hx-swap=beforeend)."""
    with server.client() as client:
        response = client.post(
            "/todos", content=b"title=" + b"a" * (2 * 1024 * 1024),
            headers={**HTMX, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413
        assert "too large" in response.text.lower()
        assert response.headers.get("HX-Retarget") == "#flash", dict(response.headers)
        assert listing(client) == []
    assert_clean_log(server)


def test_markup_in_a_title_comes_back_escaped(server):
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    with server.client() as client:
        todo_id = add(client, markup)
        answers = [
            client.get(f"/todos/{todo_id}", headers=HTMX).text,
            client.get(f"/todos/{todo_id}/edit", headers=HTMX).text,
            client.put(f"/todos/{todo_id}", data={"title": markup + "!"}, headers=HTMX).text,
            client.get("/todos", headers=HTMX).text,
            client.get("/").text,
        ]
        for text in answers:
            assert "&lt;script&gt;" in text
            assert "<script>alert" not in text and "<img src=x" not in text
        assert listing(client) == [Item(todo_id, markup + "!", False)]
    assert_clean_log(server)
