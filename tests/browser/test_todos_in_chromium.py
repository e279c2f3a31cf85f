"""The Todos and Profiles apps in a real Chromium, used the way a person uses them.

Each test gets a fresh server (its own data dir) and a fresh browser context. Waiting is done by
Playwright's auto-retrying `expect(...)`, which keeps checking until htmx has swapped the answer in.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.support.polling import wait_until

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=1">'

# Reports every Content-Security-Policy violation: injected inline script or an inline event
# handler would be blocked by the CSP and show up here, even though it never ran.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


# --- helpers ---------------------------------------------------------------------------------


def settled(page: Page) -> None:
    """Wait until htmx has finished every request, swap and settle.

    htmx wires up swapped-in content (its hx-* buttons and forms) only when it settles, 20 ms after
    the swap. A person cannot act that fast, but Playwright can: a click or key press in that
    window would reach a form or button htmx does not handle yet. See APP NOTE in the edit test.
    """
    expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")).to_have_count(0)


def open_todos(page: Page, url: str) -> None:
    page.goto(url + "/todos")
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")
    wait_until(page, "() => window.htmx !== undefined")
    wait_for_page_socket(page)


def wait_for_page_socket(page: Page) -> None:
    """Every page has the chat's WebSocket (ws-connect): wait until it is open, since messages the
    server broadcasts (chatq notices such as "Added a todo: ...") reach only open sockets."""
    expect(page.locator("[ws-connect]")).to_have_count(1)
    expect(page.locator("html")).to_have_attribute("data-socket", "open")


def todo_items(page: Page):
    return page.locator("#todo-list > li")


def todo_titles(page: Page):
    return page.locator("#todo-list > li .todo-title")


def add_todo(page: Page, title: str) -> None:
    count = todo_items(page).count()
    box = page.get_by_label("New todo")
    box.fill(title)
    box.press("Enter")
    expect(todo_items(page)).to_have_count(count + 1)
    expect(box).to_have_value("")  # the form resets itself once the server accepted it
    settled(page)


def open_profiles(page: Page) -> None:
    page.get_by_role("link", name="Profiles", exact=True).click()
    expect(page.locator("#app-panel h2")).to_have_text("Profiles")
    expect(page).to_have_url(re.compile(r"/profiles$"))
    settled(page)


def open_todos_from_menu(page: Page) -> None:
    page.get_by_role("link", name="Todos", exact=True).click()
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")
    expect(page).to_have_url(re.compile(r"/todos$"))
    settled(page)


def create_profile(page: Page, name: str) -> None:
    """On the Profiles app: type a name, press Create."""
    page.get_by_label("New profile name").fill(name)
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.locator("#profile-list .profile-name").filter(has_text=name)).to_have_count(1)
    expect(page.locator("#profile-select option").filter(has_text=name)).to_have_count(1)
    settled(page)


def switch_profile(page: Page, name: str) -> None:
    page.locator("#profile-select").select_option(label=name)
    expect(selected_profile(page)).to_have_text(name)
    settled(page)


def open_editor(page: Page, title: str):
    """Click a todo's title: its in-place editor opens, focused, with the title selected."""
    todo_titles(page).filter(has_text=title).click()
    editor = page.locator("#todo-list [data-editor] input[name=title]")
    expect(editor).to_be_focused()
    expect(editor).to_have_value(title)
    settled(page)
    return editor


def selected_profile(page: Page):
    return page.locator("#profile-select option:checked")


def profile_row(page: Page, name: str):
    return page.locator("#profile-list > li").filter(has=page.locator(".profile-name", has_text=name))


def assert_no_script_ran(page: Page) -> None:
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__cspViolations") == []
    # Injected markup would have become real elements: an <img src=x> or a stray inline <script>.
    assert page.locator("img").count() == 0
    assert page.evaluate("Array.from(document.scripts).filter(s => !s.src).length") == 0


# --- profiles, todos, switching and reloading ------------------------------------------------


def test_each_profile_keeps_its_own_list_across_switches_and_reloads(page: Page, server):
    open_todos(page, server.url)
    expect(selected_profile(page)).to_have_text("Default")

    open_profiles(page)
    create_profile(page, "Work")
    expect(profile_row(page, "Default")).to_contain_text("Selected")  # creating does not switch

    open_todos_from_menu(page)
    add_todo(page, "Buy milk")
    add_todo(page, "Call mom")
    page.get_by_label("Done: Buy milk").check()
    expect(todo_items(page).filter(has_text="Buy milk")).to_have_class(re.compile(r"\bdone\b"))
    expect(page.get_by_label("Done: Buy milk")).to_be_checked()
    expect(page.get_by_label("Done: Call mom")).not_to_be_checked()

    switch_profile(page, "Work")
    expect(page.locator("#app-panel h2 .badge")).to_have_text("Work")
    expect(todo_items(page)).to_have_count(0)
    expect(page.locator(".empty-hint")).to_be_visible()
    add_todo(page, "Write report")
    expect(todo_titles(page)).to_have_text(["Write report"])

    page.reload()
    expect(selected_profile(page)).to_have_text("Work")
    expect(page.locator("#app-panel h2 .badge")).to_have_text("Work")
    expect(todo_titles(page)).to_have_text(["Write report"])
    expect(page.get_by_label("Done: Write report")).not_to_be_checked()
    expect(page.locator("body")).not_to_contain_text("Buy milk")
    expect(page.locator("body")).not_to_contain_text("Call mom")

    switch_profile(page, "Default")
    expect(page.locator("#app-panel h2 .badge")).to_have_text("Default")
    expect(todo_titles(page)).to_have_text(["Buy milk", "Call mom"])
    expect(page.get_by_label("Done: Buy milk")).to_be_checked()
    expect(page.locator("body")).not_to_contain_text("Write report")  # the chat beside it too

    page.reload()
    expect(selected_profile(page)).to_have_text("Default")
    expect(todo_titles(page)).to_have_text(["Buy milk", "Call mom"])
    expect(page.get_by_label("Done: Buy milk")).to_be_checked()
    expect(page.get_by_label("Done: Call mom")).not_to_be_checked()
    expect(page.locator("body")).not_to_contain_text("Write report")

    # Unticking persists as well.
    page.get_by_label("Done: Buy milk").uncheck()
    expect(todo_items(page).filter(has_text="Buy milk")).not_to_have_class(re.compile(r"\bdone\b"))
    page.reload()
    expect(page.get_by_label("Done: Buy milk")).not_to_be_checked()

    # Switching on the Profiles app moves the "Selected" badge and the top-bar switcher.
    open_profiles(page)
    profile_row(page, "Work").get_by_role("button", name="Select", exact=True).click()
    expect(profile_row(page, "Work")).to_contain_text("Selected")
    expect(profile_row(page, "Default").get_by_role("button", name="Select", exact=True)).to_be_visible()
    expect(selected_profile(page)).to_have_text("Work")
    page.reload()
    expect(page.locator("#app-panel h2")).to_have_text("Profiles")  # the last app opened
    expect(selected_profile(page)).to_have_text("Work")


# --- editing in place and deleting -----------------------------------------------------------


def test_edit_a_title_in_place_escape_cancels_and_delete_removes(page: Page, server):
    open_todos(page, server.url)
    add_todo(page, "Draft")
    add_todo(page, "Keep me")

    # APP NOTE (minor race, see settled()): the editor's input gets focus (from its `autofocus`
    # attribute, and again from pipulate.js on htmx:afterSwap) before htmx has wired the editor's
    # form and Cancel button, which it does at settle, 20 ms later. Enter pressed in that window
    # submits the form natively (GET /todos?title=...: a full page load, the edit is lost; seen
    # here with Playwright), and Escape clicks a Cancel button that does nothing yet.
    # Fix (verified against these tests): add "defaultSettleDelay": 0 to HTMX_CONFIG in
    # pipulate/_ui/layout.py, so htmx processes swapped-in content in the same task as the swap.
    # open_editor() waits for the settle, as a person's reaction time does.

    # Click the title, type, press Enter. The title is selected, so typing replaces it.
    editor = open_editor(page, "Draft")
    assert page.evaluate("document.activeElement.selectionEnd - document.activeElement.selectionStart") == 5
    page.keyboard.type("Final draft")
    page.keyboard.press("Enter")
    expect(editor).to_have_count(0)
    expect(todo_titles(page)).to_have_text(["Final draft", "Keep me"])

    # Escape cancels: the title is unchanged, on the page and after a reload.
    open_editor(page, "Final draft")
    editor.fill("Not this")
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(todo_titles(page)).to_have_text(["Final draft", "Keep me"])
    page.reload()
    expect(todo_titles(page)).to_have_text(["Final draft", "Keep me"])

    # The Cancel button does the same as Escape.
    open_editor(page, "Keep me")
    editor.fill("Nor this")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(todo_titles(page)).to_have_text(["Final draft", "Keep me"])
    settled(page)

    # Delete one: it leaves the page and stays gone.
    page.get_by_role("button", name="Delete: Final draft").click()
    expect(todo_titles(page)).to_have_text(["Keep me"])
    settled(page)
    page.reload()
    expect(todo_titles(page)).to_have_text(["Keep me"])
    page.get_by_role("button", name="Delete: Keep me").click()
    expect(todo_items(page)).to_have_count(0)
    expect(page.locator(".empty-hint")).to_be_visible()


# --- reordering ------------------------------------------------------------------------------



def sent_order(request) -> list[str]:
    return parse_qs(request.post_data or "").get("order", [])


def item_ids(page: Page) -> list[str]:
    return todo_items(page).evaluate_all("items => items.map(item => item.dataset.id)")


def test_drag_and_drop_reorders_and_the_order_persists(page: Page, server):
    open_todos(page, server.url)
    for title in ("Alpha", "Bravo", "Charlie", "Delta"):
        add_todo(page, title)
    items = todo_items(page)

    # Drag the first item below the last one (drop on the lower part of the last item).
    last_box = items.nth(3).bounding_box()
    with page.expect_response("**/todos/reorder") as answer:
        items.nth(0).drag_to(items.nth(3), target_position={"x": 20, "y": last_box["height"] - 3})
    assert answer.value.ok
    expect(todo_titles(page)).to_have_text(["Bravo", "Charlie", "Delta", "Alpha"])
    # The request names every todo, in the order now on the page.
    assert sent_order(answer.value.request) == item_ids(page)

    # Drag the third item onto the upper part of the first.
    with page.expect_response("**/todos/reorder") as answer:
        items.nth(2).drag_to(items.nth(0), target_position={"x": 20, "y": 3})
    assert answer.value.ok
    expect(todo_titles(page)).to_have_text(["Delta", "Bravo", "Charlie", "Alpha"])

    page.reload()
    expect(todo_titles(page)).to_have_text(["Delta", "Bravo", "Charlie", "Alpha"])


def test_alt_arrow_keys_reorder_and_the_order_persists(page: Page, server):
    open_todos(page, server.url)
    for title in ("Alpha", "Bravo", "Charlie"):
        add_todo(page, title)
    items = todo_items(page)

    items.filter(has_text="Charlie").focus()
    with page.expect_response("**/todos/reorder") as answer:
        page.keyboard.press("Alt+ArrowUp")
    assert answer.value.ok
    expect(todo_titles(page)).to_have_text(["Alpha", "Charlie", "Bravo"])
    assert sent_order(answer.value.request) == item_ids(page)
    expect(items.filter(has_text="Charlie")).to_be_focused()  # focus follows the moved item

    page.reload()
    expect(todo_titles(page)).to_have_text(["Alpha", "Charlie", "Bravo"])

    items.filter(has_text="Alpha").focus()
    with page.expect_response("**/todos/reorder"):
        page.keyboard.press("Alt+ArrowDown")
    expect(todo_titles(page)).to_have_text(["Charlie", "Alpha", "Bravo"])
    page.reload()
    expect(todo_titles(page)).to_have_text(["Charlie", "Alpha", "Bravo"])


def test_dragging_an_item_to_the_top_persists(page: Page, server):
    """The move the reorder bug above does not affect: the new first item is the one sent."""
    open_todos(page, server.url)
    for title in ("Alpha", "Bravo", "Charlie"):
        add_todo(page, title)
    items = todo_items(page)
    with page.expect_response("**/todos/reorder") as answer:
        items.nth(2).drag_to(items.nth(0), target_position={"x": 20, "y": 3})
    assert answer.value.ok
    expect(todo_titles(page)).to_have_text(["Charlie", "Alpha", "Bravo"])
    page.reload()
    expect(todo_titles(page)).to_have_text(["Charlie", "Alpha", "Bravo"])


# --- deleting a profile, with the confirmation dialog ----------------------------------------


def test_deleting_a_profile_asks_first_and_dismissing_keeps_it(page: Page, server):
    open_todos(page, server.url)
    open_profiles(page)
    create_profile(page, "Work")
    create_profile(page, "Home")

    dialogs = []

    def dismiss(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    with page.expect_event("dialog"):
        profile_row(page, "Work").get_by_role("button", name="Delete").click()
    assert dialogs == [("confirm", "Delete the profile “Work” and all its data?")]
    expect(profile_row(page, "Work")).to_have_count(1)
    page.reload()
    expect(profile_row(page, "Work")).to_have_count(1)
    expect(page.locator("#profile-select option")).to_have_text(["Default", "Work", "Home"])

    page.once("dialog", lambda dialog: dialog.accept())
    profile_row(page, "Work").get_by_role("button", name="Delete").click()
    expect(profile_row(page, "Work")).to_have_count(0)
    expect(page.locator("#profile-select option")).to_have_text(["Default", "Home"])
    page.reload()
    expect(page.locator("#profile-list .profile-name")).to_have_text(["Default", "Home"])
    expect(page.locator("#profile-select option")).to_have_text(["Default", "Home"])

    # Deleting the selected profile moves the selection to the first one, with its own list.
    switch_profile(page, "Home")
    open_todos_from_menu(page)
    add_todo(page, "Home chore")
    open_profiles(page)
    page.once("dialog", lambda dialog: dialog.accept())
    profile_row(page, "Home").get_by_role("button", name="Delete").click()
    expect(profile_row(page, "Home")).to_have_count(0)
    expect(selected_profile(page)).to_have_text("Default")
    expect(profile_row(page, "Default")).to_contain_text("Selected")
    open_todos_from_menu(page)
    expect(page.locator("#app-panel h2 .badge")).to_have_text("Default")
    expect(todo_items(page)).to_have_count(0)

    # The only profile left cannot be deleted; the message says why.
    open_profiles(page)
    page.once("dialog", lambda dialog: dialog.accept())
    profile_row(page, "Default").get_by_role("button", name="Delete").click()
    expect(page.locator("#flash")).to_contain_text("only profile")
    expect(profile_row(page, "Default")).to_have_count(1)


# --- markup typed by the user is text --------------------------------------------------------


@pytest.mark.parametrize("markup", [XSS_SCRIPT, XSS_IMG], ids=["script", "img-onerror"])
def test_markup_in_titles_and_names_is_shown_as_text_and_runs_nothing(page: Page, server, markup):
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    origin = server.url
    requested = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path))

    open_todos(page, origin)
    add_todo(page, markup)
    expect(todo_titles(page)).to_have_text([markup])
    expect(page.get_by_label(f"Done: {markup}")).to_have_count(1)
    # The chat beside the app announces the new todo (chatq), with its title as text.
    expect(page.locator("#chat-messages")).to_contain_text(f"Added a todo: {markup}")
    assert_no_script_ran(page)

    # Edit it in place: the editor shows it as the input's value, and saving keeps it text.
    editor = open_editor(page, markup)
    editor.fill(markup + " again")
    editor.press("Enter")
    expect(todo_titles(page)).to_have_text([markup + " again"])
    assert_no_script_ran(page)

    open_profiles(page)
    create_profile(page, markup)
    expect(profile_row(page, markup).locator(".profile-name")).to_have_text(markup)
    switch_profile(page, markup)
    assert_no_script_ran(page)

    # The confirmation shows the name literally too (dismissed: nothing is deleted).
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    with page.expect_event("dialog"):
        profile_row(page, markup).get_by_role("button", name="Delete").click()
    assert messages == [f"Delete the profile “{markup}” and all its data?"]

    open_todos_from_menu(page)
    expect(page.locator("#app-panel h2 .badge")).to_have_text(markup)
    add_todo(page, markup)
    assert_no_script_ran(page)

    for _ in range(2):  # a full page render from the server, on each app
        page.reload()
        expect(page.locator("#app-panel h2 .badge")).to_have_text(markup)
        expect(selected_profile(page)).to_have_text(markup)
        expect(todo_titles(page)).to_have_text([markup])
        assert markup in page.locator("#app-panel").inner_text()
        assert_no_script_ran(page)
        switch_profile(page, "Default")
        expect(todo_titles(page)).to_have_text([markup + " again"])
        assert_no_script_ran(page)
        switch_profile(page, markup)
    open_profiles(page)
    page.reload()
    expect(profile_row(page, markup).locator(".profile-name")).to_have_text(markup)
    assert_no_script_ran(page)
    assert "/x" not in requested  # an <img src=x> was never created, so never fetched


# --- a refused input -------------------------------------------------------------------------


def test_an_over_long_title_shows_a_readable_error_and_adds_nothing(page: Page, server):
    open_todos(page, server.url)
    add_todo(page, "Short one")
    too_long = "x" * 250
    box = page.get_by_label("New todo")
    box.fill(too_long)
    page.get_by_role("button", name="Add", exact=True).click()

    flash = page.locator("#flash")
    expect(flash.get_by_role("alert")).to_have_text(
        "Title is 250 characters long; the limit is 200. Nothing was saved."
    )
    expect(flash).to_be_visible()
    expect(todo_titles(page)).to_have_text(["Short one"])
    expect(box).to_have_value(too_long)  # kept, so the user can shorten it

    # The next action clears the message; a valid title is then accepted.
    box.fill("x" * 200)
    box.press("Enter")
    expect(flash).to_be_empty()
    expect(todo_titles(page)).to_have_text(["Short one", "x" * 200])

    # Editing in place is refused the same way and changes nothing.
    editor = open_editor(page, "Short one")
    editor.fill("y" * 201)
    editor.press("Enter")
    expect(flash.get_by_role("alert")).to_contain_text("the limit is 200")

    page.reload()
    expect(todo_titles(page)).to_have_text(["Short one", "x" * 200])
    expect(flash).to_be_empty()


# --- no network beyond the app ---------------------------------------------------------------


def test_every_request_the_page_makes_goes_to_the_app_itself(page: Page, server):
    own_origin = server.url
    requests, foreign = [], []

    def note(request):
        requests.append(request.url)
        parts = urlsplit(request.url)
        if f"{parts.scheme}://{parts.netloc}" != own_origin and parts.scheme not in ("data", "blob"):
            foreign.append(request.url)

    page.on("request", note)
    page.on("websocket", lambda ws: note_websocket(ws, own_origin, foreign))
    # No network beyond the app: anything else is aborted (and recorded above).
    page.context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(own_origin + "/") else route.abort(),
    )

    open_todos(page, own_origin)
    assert page.evaluate("typeof htmx.version") == "string"
    add_todo(page, "Offline")
    page.get_by_label("Done: Offline").check()
    expect(page.get_by_label("Done: Offline")).to_be_checked()
    open_profiles(page)
    create_profile(page, "Elsewhere")
    switch_profile(page, "Elsewhere")
    open_todos_from_menu(page)
    page.reload()
    expect(page.locator("#app-panel h2 .badge")).to_have_text("Elsewhere")
    wait_for_page_socket(page)

    assert foreign == []
    # htmx and the stylesheet come from the app's /static, not from a CDN.
    assert any(urlsplit(url).path == "/static/htmx.min.js" for url in requests)
    assert any(urlsplit(url).path == "/static/pipulate.css" for url in requests)


def note_websocket(ws, own_origin: str, foreign: list) -> None:
    parts = urlsplit(ws.url)
    if parts.netloc != urlsplit(own_origin).netloc:
        foreign.append(ws.url)


# --- screenshots for a person to look at -----------------------------------------------------


def test_screenshots_of_todos_and_profiles(page: Page, server):
    page.set_viewport_size({"width": 1366, "height": 768})  # a common laptop screen
    open_todos(page, server.url)
    for title in ("Write the quarterly report", "Buy milk", "Call the plumber about the kitchen sink", "Book flights"):
        add_todo(page, title)
    page.get_by_label("Done: Buy milk").check()
    expect(todo_items(page).filter(has_text="Buy milk")).to_have_class(re.compile(r"\bdone\b"))
    page.locator("body").click(position={"x": 5, "y": 700})  # no focus ring on the last control
    page.screenshot(path="/tmp/pipulate-todos.png", full_page=True)

    open_profiles(page)
    create_profile(page, "Work")
    create_profile(page, "Side project")
    page.locator("body").click(position={"x": 5, "y": 700})
    page.screenshot(path="/tmp/pipulate-profiles.png", full_page=True)
