"""The profiles app through the real server: create, rename, delete, select, and what is refused."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from html.parser import HTMLParser

from tests.apps.test_todos_over_http import (
    HTMX,
    add,
    assert_clean_log,
    assert_refused,
    create_profile,
    listing,
    select_profile,
    selected_badge,
)
from tests.support.timing import scaled


class _ProfileListParser(HTMLParser):
    """(id, name, selected) for each item of the profile list."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[list] = []
        self._in_name = False
        self._in_badge = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        match = re.fullmatch(r"profile-(\d+)", attributes.get("id") or "")
        if tag == "li" and match:
            self.items.append([int(match.group(1)), "", False])
        elif tag == "button" and "profile-name" in classes and self.items:
            self._in_name = True
        elif tag == "span" and "badge" in classes and self.items:
            self._in_badge = True

    def handle_endtag(self, tag):
        self._in_name = self._in_name and tag != "button"
        self._in_badge = self._in_badge and tag != "span"

    def handle_data(self, data):
        if self._in_name:
            self.items[-1][1] += data
        if self._in_badge and data.strip() == "Selected":
            self.items[-1][2] = True


def parse_profiles(html: str) -> list[tuple[int, str, bool]]:
    parser = _ProfileListParser()
    parser.feed(html)
    parser.close()
    return [tuple(item) for item in parser.items]


def profiles(client) -> list[tuple[int, str, bool]]:
    response = client.get("/profiles", headers=HTMX)
    assert response.status_code == 200, response.text
    found = parse_profiles(response.text)
    assert sum(selected for _, _, selected in found) == 1, found
    return found


def names(client) -> list[str]:
    return [name for _, name, _ in profiles(client)]


def selected_name(client) -> str:
    return next(name for _, name, selected in profiles(client) if selected)


def todo_count(server, profile_id: int) -> int:
    """Read the server's database file directly (SQLite allows a reader next to the server)."""
    with closing(sqlite3.connect(server.data_dir / "pipulate.db", timeout=scaled(5))) as db:
        return db.execute("SELECT count(*) FROM todos WHERE profile_id = ?", [profile_id]).fetchone()[0]


def test_create_and_rename_with_duplicates_and_limits_refused(server):
    with server.client() as client:
        assert profiles(client) == [(profiles(client)[0][0], "Default", True)]

        created = client.post("/profiles", data={"name": "  Work  "}, headers=HTMX)
        assert created.status_code == 200
        work = int(re.search(r'id="profile-(\d+)"', created.text).group(1))
        assert parse_profiles(created.text) == [(work, "Work", False)]
        # The switcher in the top bar is redrawn too (out of band), with the new profile in it.
        assert 'id="profile-switcher"' in created.text and f'<option value="{work}">Work</option>' in created.text
        assert names(client) == ["Default", "Work"]

        # Duplicates are refused whatever the case and spacing.
        for name in ("Work", "work", " WORK ", "default"):
            assert_refused(client.post("/profiles", data={"name": name}, headers=HTMX), 422)
        # Empty, blank, over-long (61) and control characters are refused.
        for name in ("", "   ", "n" * 61, "tab\x00null"):
            assert_refused(client.post("/profiles", data={"name": name}, headers=HTMX), 422)
            assert_refused(client.put(f"/profiles/{work}", data={"name": name}, headers=HTMX), 422)
        assert_refused(client.post("/profiles", headers=HTMX), 422)
        assert names(client) == ["Default", "Work"]

        # Rename.
        renamed = client.put(f"/profiles/{work}", data={"name": "Office"}, headers=HTMX)
        assert renamed.status_code == 200 and parse_profiles(renamed.text) == [(work, "Office", False)]
        assert names(client) == ["Default", "Office"]
        # Renaming onto another profile's name is refused; onto its own name (another case) is not.
        assert_refused(client.put(f"/profiles/{work}", data={"name": "DEFAULT"}, headers=HTMX), 422)
        assert names(client) == ["Default", "Office"]
        assert client.put(f"/profiles/{work}", data={"name": "office"}, headers=HTMX).status_code == 200
        assert names(client) == ["Default", "office"]

        # Exactly 60 characters is allowed.
        sixty = create_profile(client, "s" * 60)
        assert (sixty, "s" * 60, False) in profiles(client)

        # Unknown or malformed ids.
        for bad in ("999999", "abc", "0", "-3", str(2**64)):
            assert_refused(client.put(f"/profiles/{bad}", data={"name": "X"}, headers=HTMX), 404)
            assert_refused(client.get(f"/profiles/{bad}/edit", headers=HTMX), 404)
            assert_refused(client.delete(f"/profiles/{bad}", headers=HTMX), 404)
            assert_refused(client.post("/profiles/select", data={"profile_id": bad}, headers=HTMX), 404)
        assert_refused(client.post("/profiles/select", headers=HTMX), 404)
        assert names(client) == ["Default", "office", "s" * 60]
        assert selected_name(client) == "Default"
    assert_clean_log(server)


def test_markup_in_a_profile_name_comes_back_escaped(server):
    with server.client() as client:
        profile_id = create_profile(client, "<b>bold</b><script>x()</script>")
        for text in (client.get("/profiles", headers=HTMX).text, client.get("/").text,
                     client.get(f"/profiles/{profile_id}/edit", headers=HTMX).text):
            assert "&lt;script&gt;" in text and "<script>x()" not in text and "<b>bold" not in text
    assert_clean_log(server)


def test_the_last_profile_cannot_be_deleted(server):
    with server.client() as client:
        [(only, name, selected)] = profiles(client)
        assert_refused(client.delete(f"/profiles/{only}", headers=HTMX), 422)
        assert profiles(client) == [(only, name, selected)]

        other = create_profile(client, "Other")
        assert client.delete(f"/profiles/{only}", headers=HTMX).status_code == 200
        assert profiles(client) == [(other, "Other", True)]
        assert_refused(client.delete(f"/profiles/{other}", headers=HTMX), 422)
        assert profiles(client) == [(other, "Other", True)]
    assert_clean_log(server)


def test_deleting_a_profile_deletes_its_todos(server):
    with server.client() as client:
        [(default, _, _)] = profiles(client)
        kept = [add(client, "Default's todo"), add(client, "Another")]
        doomed = create_profile(client, "Doomed")
        select_profile(client, doomed)
        doomed_todos = [add(client, f"Doomed {n}") for n in range(5)]
        select_profile(client, default)
        assert todo_count(server, doomed) == 5

        response = client.delete(f"/profiles/{doomed}", headers=HTMX)
        assert response.status_code == 200
        assert "Doomed" not in response.text
        assert names(client) == ["Default"]
        assert todo_count(server, doomed) == 0
        assert [item.id for item in listing(client)] == kept
        # The deleted profile's todos are gone for every route, too.
        for todo_id in doomed_todos:
            assert_refused(client.get(f"/todos/{todo_id}", headers=HTMX), 404)
        assert_refused(
            client.post("/todos/reorder", data={"order": [str(doomed_todos[0])]}, headers=HTMX), 404
        )
        assert_refused(client.post("/profiles/select", data={"profile_id": str(doomed)}, headers=HTMX), 404)
        assert_refused(client.delete(f"/profiles/{doomed}", headers=HTMX), 404)
    assert_clean_log(server)


def test_deleting_the_selected_profile_moves_the_selection(server):
    with server.client() as client:
        [(default, _, _)] = profiles(client)
        second = create_profile(client, "Second")
        third = create_profile(client, "Third")
        select_profile(client, third)
        add(client, "Third's todo")
        assert selected_name(client) == "Third" and selected_badge(client) == "Third"

        response = client.delete(f"/profiles/{third}", headers=HTMX)
        assert response.status_code == 200
        # The answer is the redrawn panel and switcher, both showing the new selection.
        assert parse_profiles(response.text) == [(default, "Default", True), (second, "Second", False)]
        assert re.search(rf'<option value="{default}" selected>Default</option>', response.text)
        assert selected_name(client) == "Default" and selected_badge(client) == "Default"
        assert listing(client) == []

        # Deleting a profile that is not selected leaves the selection alone.
        select_profile(client, second)
        assert client.delete(f"/profiles/{default}", headers=HTMX).status_code == 200
        assert profiles(client) == [(second, "Second", True)]
    assert_clean_log(server)
