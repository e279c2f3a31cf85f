"""The page around the apps, in a real Chromium: every input styled alike, messages that float
instead of pushing the page and read as sentences, a double click that adds once, a branded 404
with a way back, a refused host that says how to allow it, and --live showing a plugin's syntax
error (file and line) and recovering once it is fixed.
"""

from __future__ import annotations

import socket

from playwright.sync_api import Page, expect

from tests.browser.test_live_reload import PLUGIN
from tests.browser.test_todos_in_chromium import open_profiles, open_todos, settled, todo_items
from tests.support.timing import ms

INPUT_KINDS = ["text", "number", "password", "url", "email", "search"]
STYLE = ("borderTopWidth", "borderTopStyle", "borderTopColor", "borderTopLeftRadius", "paddingTop", "paddingLeft",
         "backgroundColor", "color", "fontFamily", "fontSize")


def test_every_kind_of_input_is_styled_alike(page: Page, server):
    page.goto(server.url + "/settings")
    looks = page.evaluate(
        """([kinds, properties]) => {
          const panel = document.getElementById("app-panel");
          const made = kinds.map(kind => { const input = document.createElement("input"); input.type = kind; return input; });
          made.push(document.createElement("textarea"), document.createElement("select"));
          made.forEach(element => panel.appendChild(element));
          const look = element => Object.fromEntries(properties.map(p => [p, getComputedStyle(element)[p]]));
          return made.map(element => [element.type || element.tagName, look(element)]);
        }""",
        [INPUT_KINDS, list(STYLE)],
    )
    reference = looks[0][1]
    assert reference["borderTopStyle"] == "solid" and reference["borderTopLeftRadius"] == "8px"
    for kind, look in looks[1:]:
        assert look == reference, (kind, look, reference)
    # The real ones of the Settings page too.
    for label in ("System prompt", "Temperature", "Theme"):
        real = page.get_by_label(label).evaluate("(e, p) => Object.fromEntries(p.map(n => [n, getComputedStyle(e)[n]]))",
                                                 list(STYLE))
        assert real == reference, (label, real)


def test_a_message_floats_over_the_page_and_reads_as_a_sentence(page: Page, server):
    open_todos(page, server.url)
    open_profiles(page)
    panel = page.locator("#app-panel")
    name = 'ann\'s "quoted"'
    before = None
    for _ in range(2):
        before = panel.bounding_box()
        page.get_by_label("New profile name").fill(name)
        page.get_by_role("button", name="Create", exact=True).click()
        settled(page)
    message = page.locator("#flash .message")
    expect(message).to_have_text(f"A profile named “{name}” already exists.")
    expect(message).to_be_visible()
    assert panel.bounding_box() == before  # nothing moved
    message.click()  # a click puts it away
    expect(message).to_have_count(0)


def test_a_double_click_adds_once_and_says_nothing_false(page: Page, server):
    open_todos(page, server.url)
    page.get_by_label("New todo").fill("Only once")
    page.get_by_role("button", name="Add", exact=True).dblclick()
    expect(todo_items(page)).to_have_count(1)
    settled(page)
    page.wait_for_timeout(ms(0.3))  # a second request would have been answered by now
    expect(todo_items(page)).to_have_count(1)
    expect(page.locator("#flash")).to_be_empty()
    page.reload()
    expect(todo_items(page)).to_have_count(1)

    open_profiles(page)
    page.get_by_label("New profile name").fill("Twice?")
    page.get_by_role("button", name="Create", exact=True).dblclick()
    expect(page.locator("#profile-list .profile-name", has_text="Twice?")).to_have_count(1)
    settled(page)
    page.wait_for_timeout(ms(0.3))
    expect(page.locator("#flash")).to_be_empty()
    expect(page.locator("#profile-list .profile-name", has_text="Twice?")).to_have_count(1)


def test_a_missing_page_is_the_apps_own_with_a_way_back(page: Page, server):
    response = page.goto(server.url + "/no/such/page")
    assert response.status == 404
    expect(page).to_have_title("Page not found · Pipulate")
    expect(page.locator(".brand")).to_have_text("Pipulate")
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator(".error-page")).to_contain_text("There is no page at this address.")
    # Styled by the app's stylesheet (its canvas colour, its accent on the code).
    assert page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor") == "rgb(244, 246, 247)"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.error-page .code')).color") == "rgb(47, 109, 90)"
    page.screenshot(path="/tmp/pipulate-404.png")
    page.get_by_role("link", name="Back to the app").click()
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")
    page.goto(server.url + "/also/missing")
    page.get_by_role("link", name="Profiles", exact=True).click()  # the menu works from there too
    expect(page.locator("#app-panel h2")).to_have_text("Profiles")


def lan_address() -> str:
    """An address of this machine that is not a loopback name (its LAN address; else 127.0.0.2,
    which the loopback interface answers too)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            address = probe.getsockname()[0]
    except OSError:
        address = ""
    return address if address and not address.startswith("127.") else "127.0.0.2"


def test_a_lan_address_is_refused_with_how_to_allow_it(page: Page, servers, tmp_path):
    address = lan_address()
    app = servers("--host", "0.0.0.0")
    response = page.goto(f"http://{address}:{app.port}/")
    assert response.status == 400
    text = page.locator("body").inner_text()
    assert f"the Host header names {address}, which is not one of this app's own names" in text
    assert f'allowed_hosts = ["{address}"]' in text and f"PIPULATE_ALLOWED_HOSTS={address}" in text
    # Doing what it says works.
    (tmp_path / "allowed").mkdir()
    (tmp_path / "allowed" / "pipulate.toml").write_text(f'allowed_hosts = ["{address}"]\n')
    allowed = servers("--host", "0.0.0.0", cwd=tmp_path / "allowed")
    assert page.goto(f"http://{address}:{allowed.port}/todos").status == 200
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")


def test_a_brand_opens_on_its_home_app_until_another_is_opened(page: Page, servers, tmp_path):
    """A variant's pipulate.toml names its own tool (home_app): a first visit opens there, not on Todos."""
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "hello.py").write_text(PLUGIN.format(version="home"))
    (tmp_path / "pipulate.toml").write_text('app_name = "Acme"\nhome_app = "greeter"\n')
    app = servers(cwd=tmp_path)
    page.goto(app.url)
    expect(page.locator("#app-panel h2")).to_have_text("Hello home")
    expect(page.get_by_role("link", name="Hello", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Todos", exact=True).click()
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")
    page.goto(app.url)  # the app opened last wins from then on
    expect(page.locator("#app-panel h2")).to_contain_text("Todos")
