"""Hostile Markdown in the real page: as a message the user typed, as the model's reply (a
scripted model server echoes it back exactly), as a todo title announced by chatq, and again
after a reload (the history's rendering). In every case no element of the conversation carries an
`on*`, `hx-*`, `ws-*` or `style` attribute or a URL that is not http(s)/mailto on another
origin, and clicking every link sends no request to the app.

The corpus is tests/support/hostile_markdown.py; one of its entries, clicked, once deleted a
whole profile (the "Markdown link breakout").
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.apps.test_todos_over_http import HTMX
from tests.browser.test_chat_in_chromium import RECORD_CSP_VIOLATIONS, open_app
from tests.support.database import snapshot
from tests.support.hostile_markdown import HOSTILE_MARKDOWN
from tests.support.polling import wait_until
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.timing import ms

ALLOWED_TAGS = {"DIV", "P", "BR", "HR", "STRONG", "EM", "S", "DEL", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL", "LI",
                "H3", "H4", "H5", "H6", "A", "TABLE", "THEAD", "TBODY", "TR", "TH", "TD", "SPAN", "PROGRESS"}

# Everything in the conversation that could act: a list of "what, where" strings (empty is good).
OFFENDERS = """(allowedTags) => {
  const bad = [];
  for (const element of document.querySelectorAll("#chat-messages *")) {
    if (!allowedTags.includes(element.tagName)) bad.push("tag " + element.tagName);
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith("on") || name.startsWith("hx-") || name.startsWith("data-hx") ||
          name.startsWith("ws-") || name.startsWith("data-ws") || name === "style" || name === "srcdoc" ||
          name === "src" || name === "action" || name === "formaction") {
        bad.push(name + " on " + element.outerHTML.slice(0, 120));
      }
    }
    if (element.tagName === "A") {
      const url = new URL(element.getAttribute("href") || "", location.href);
      if (!["http:", "https:", "mailto:"].includes(url.protocol) || url.origin === location.origin) {
        bad.push("href " + element.getAttribute("href"));
      }
    }
  }
  return bad;
}"""


def test_hostile_markdown_renders_inert_everywhere(servers, chromium):
    with ScriptedModelServer() as model:  # echoes each message back as the model's reply
        app = servers("--llm-url", model.url, "--model", MODEL)
        context = chromium.new_context()
        app_requests: list[str] = []
        context.on("request", lambda request: app_requests.append(f"{request.method} {request.url}")
                   if request.url.startswith(app.url) else None)
        # Links lead to other hosts: refuse those loads at once rather than wait for DNS to fail.
        context.route(lambda url: not url.startswith(app.url), lambda route: route.abort())
        page = context.new_page()
        page.on("popup", lambda popup: popup.close())  # a link opens a tab on another host: not our business
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        try:
            open_app(page, app.url)
            messages = page.locator("#chat-messages .msg")
            for number, attack in enumerate(HOSTILE_MARKDOWN):
                before = messages.count()
                page.locator("#chat-form textarea").fill(attack)
                page.locator("#chat-send").click()
                expect(messages).to_have_count(before + 2)  # the message and its (echoed) reply
                wait_until(page, "() => document.getElementById('chat-state').dataset.state === 'idle'")
                assert page.evaluate(OFFENDERS, sorted(ALLOWED_TAGS)) == [], (number, attack)
            with app.client() as client:
                for attack in HOSTILE_MARKDOWN:
                    if "\n" not in attack and len(attack) <= 200:
                        assert client.post("/todos", data={"title": attack}, headers=HTMX).status_code == 200
            wait_until(page, f"() => document.querySelectorAll('#chat-messages .msg.notice').length >= {sum(1 for a in HOSTILE_MARKDOWN if chr(10) not in a and len(a) <= 200)}")
            assert page.evaluate(OFFENDERS, sorted(ALLOWED_TAGS)) == []
            clicks = click_every_link(page, app_requests)

            page.reload()  # the history, rendered by the server from what it stored
            wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
            assert page.locator("#chat-messages .msg.user").count() > 25  # the newest 100 messages are shown
            assert page.evaluate(OFFENDERS, sorted(ALLOWED_TAGS)) == []
            clicks += click_every_link(page, app_requests)
            assert clicks > 20, "the corpus should render some (safe) links"
            assert page.evaluate("() => window.__cspViolations") == []
            assert page.evaluate("() => window.__xss === undefined")
        finally:
            context.close()
        profiles = snapshot(app.data_dir / "pipulate.db")["profiles"]
        assert len(profiles) == 1  # nothing was deleted or created by a click
    assert "Traceback" not in app.log()


def click_every_link(page, app_requests: list[str]) -> int:
    """Click each link of the conversation as a person would; no click may reach the app."""
    links = page.locator("#chat-messages a")
    count = links.count()
    before = len(app_requests)
    for index in range(count):
        links.nth(index).click(no_wait_after=True)
    page.wait_for_timeout(ms(0.5))  # htmx would have sent by now; popups to other hosts are closed
    assert app_requests[before:] == [], app_requests[before:]
    return count
