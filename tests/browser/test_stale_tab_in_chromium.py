"""Two tabs on two profiles: each acts on the profile it shows. Before, the selected profile was
one global value, so a tab left on profile X added its todos to Y (the profile another tab had
switched to) and could not toggle X's own todos ("No such todo").

Connected tabs of one profile follow a switch made in another (tests/browser/test_chat_tabs_in_
chromium.py); a tab whose socket is down (a laptop asleep, a network blip) misses it and stays on
what it shows: that is the tab these tests drive, its page socket answered by a stand-in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.apps.test_todos_over_http import HTMX, create_profile
from tests.browser.test_todos_in_chromium import add_todo, open_todos, settled, todo_items, todo_titles
from tests.support.database import query


def test_a_stale_tab_acts_on_the_profile_it_shows(server, chromium):
    with server.client() as client:
        second = create_profile(client, "Second")
    context = chromium.new_context()
    try:
        tab_a, tab_b = context.new_page(), context.new_page()
        tab_b.route_web_socket("**/ws", lambda socket: None)  # B hears nothing from the server
        open_todos(tab_b, server.url)  # B shows Default
        add_todo(tab_b, "B's first")
        open_todos(tab_a, server.url)
        tab_a.locator("#profile-select").select_option(str(second))  # A switches to Second
        expect(tab_a.locator("#app-panel .badge")).to_have_text("Second")
        settled(tab_a)
        add_todo(tab_a, "A's todo")

        # B still shows Default: its todo lands in Default, and it can toggle Default's todos.
        add_todo(tab_b, "B's second")
        expect(todo_titles(tab_b)).to_have_text(["B's first", "B's second"])
        todo_items(tab_b).first.locator("input[type=checkbox]").click()
        expect(todo_items(tab_b).first).to_have_class("todo done")
        expect(tab_b.locator("#flash")).to_be_empty()
        database = server.data_dir / "pipulate.db"
        rows = query(database, "SELECT p.name, t.title, t.done FROM todos t JOIN profiles p ON p.id = t.profile_id ORDER BY t.id")
        assert rows == [("Default", "B's first", 1), ("Second", "A's todo", 0), ("Default", "B's second", 0)]

        # A new tab opens with the profile picked last (Second).
        tab_c = context.new_page()
        open_todos(tab_c, server.url)
        expect(tab_c.locator("#app-panel .badge")).to_have_text("Second")
        expect(todo_titles(tab_c)).to_have_text(["A's todo"])
    finally:
        context.close()


def test_a_tab_whose_profile_was_deleted_is_told_and_shows_the_current_one(server, chromium):
    with server.client() as client:
        doomed = create_profile(client, "Doomed")
        client.post("/profiles/select", data={"profile_id": doomed}, headers=HTMX)
    context = chromium.new_context()
    try:
        tab = context.new_page()
        open_todos(tab, server.url)
        expect(tab.locator("#app-panel .badge")).to_have_text("Doomed")
        with server.client() as client:  # another tab deletes it (and the selection moves)
            assert client.delete(f"/profiles/{doomed}", headers=HTMX).status_code == 200
        box = tab.get_by_label("New todo")
        box.fill("lost?")
        box.press("Enter")
        expect(tab.locator("#flash")).to_contain_text("was showing a profile that has since been deleted")
        expect(tab.locator("#app-panel .badge")).to_have_text("Default")
        expect(tab.locator("#profile-select")).to_have_value(str(1))
        assert query(server.data_dir / "pipulate.db", "SELECT count(*) FROM todos") == [(0,)]
        settled(tab)
        add_todo(tab, "now in Default")
        expect(todo_titles(tab)).to_have_text(["now in Default"])
    finally:
        context.close()
    assert "Traceback" not in server.log()
