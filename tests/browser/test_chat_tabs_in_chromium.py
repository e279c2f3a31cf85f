"""Two tabs and reloads, in a real Chromium: the conversation belongs to the profile, so a message,
its reply, a Clear and a profile switch made in one tab show in the other without a reload; a
reload during a reply shows what arrived so far at once and keeps streaming; Clear during a reply
stops it first, so nothing of it comes back.

The scripted model server sends a known reply slowly enough to act in the middle of it.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_todos_in_chromium import add_todo, todo_titles
from tests.support.chat_page import IDLE, STREAMING, box, messages, open_chat, send_and_wait, type_and_send
from tests.support.polling import wait_until
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.timing import ms

WORDS = [f"w{number} " for number in range(40)]


def slow(conversation):
    return WORDS


def start(servers, model):
    return servers("--llm-url", model.url, "--model", MODEL)


def test_two_tabs_show_the_same_conversation_clear_and_profile(servers, chromium):
    with ScriptedModelServer(lambda conversation: ["Paris."]) as model:
        app = start(servers, model)
        context = chromium.new_context()
        try:
            one, two = context.new_page(), context.new_page()
            open_chat(one, app.url)
            open_chat(two, app.url + "/todos")

            # A message and its reply, sent from one tab, show in the other.
            send_and_wait(one, "Capital of France?")
            expect(messages(two, "user")).to_have_text(["Capital of France?"])
            expect(messages(two, "assistant")).to_have_text(["Paris."])
            wait_until(two, IDLE)
            expect(box(two)).to_have_value("")  # the other tab's box is its own

            # Clear in the second empties the first.
            two.once("dialog", lambda dialog: dialog.accept())
            two.get_by_role("button", name="Clear", exact=True).click()
            expect(messages(two)).to_have_count(0)
            expect(messages(one)).to_have_count(0)

            # A profile switch in one tab: the other follows, chat and app panel alike.
            add_todo(two, "Default's todo")
            with app.client() as client:
                client.post("/profiles", data={"name": "Work"}, headers={"HX-Request": "true"})
            one.reload()
            wait_until(one, "() => document.documentElement.dataset.socket === 'open'")
            send_and_wait(one, "Default's question")
            one.locator("#profile-select").select_option(label="Work")
            expect(one.locator("#profile-select option:checked")).to_have_text("Work")
            expect(two.locator("#profile-select option:checked")).to_have_text("Work")
            expect(two.locator("#app-panel h2 .badge")).to_have_text("Work")
            expect(todo_titles(two)).to_have_count(0)
            expect(messages(two)).to_have_count(0)
            # ...and now shows Work's news: a message from the first tab reaches it.
            send_and_wait(one, "Work's question")
            expect(messages(two, "user")).to_have_text(["Work's question"])
        finally:
            context.close()


def test_a_reload_during_a_reply_shows_it_at_once_and_keeps_streaming(page: Page, servers):
    with ScriptedModelServer(slow, delay=0.1) as model:
        app = start(servers, model)
        open_chat(page, app.url)
        type_and_send(page, "Count slowly")
        wait_until(page, "() => (document.querySelector('#chat-messages .msg.assistant') || {}).textContent"
                         " && document.querySelector('#chat-messages .msg.assistant').textContent.includes('w5 ')")
        page.reload()
        # At once: the page as the server draws it holds the reply so far (no socket needed yet).
        reply = messages(page, "assistant")
        so_far = reply.text_content(timeout=ms(1))
        assert so_far.startswith("w0 w1 w2 w3 w4 w5 "), so_far
        assert page.locator("#chat-state").get_attribute("data-state") == "streaming"
        # ...and the rest keeps coming into the reloaded page, to the end.
        wait_until(page, IDLE, timeout=20)
        expect(reply).to_have_text("".join(WORDS).strip())
        expect(reply).not_to_have_class("msg assistant streaming")
        page.reload()
        expect(messages(page, "assistant")).to_have_text("".join(WORDS).strip())  # kept whole


def test_clear_during_a_reply_stops_it_first_and_nothing_comes_back(page: Page, servers):
    with ScriptedModelServer(slow, delay=0.1) as model:
        app = start(servers, model)
        open_chat(page, app.url)
        type_and_send(page, "Count slowly")
        wait_until(page, STREAMING)
        wait_until(page, "() => (document.querySelector('#chat-messages .msg.assistant') || {}).textContent"
                         " && document.querySelector('#chat-messages .msg.assistant').textContent.includes('w3 ')")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Clear", exact=True).click()
        wait_until(page, IDLE, timeout=5)
        expect(messages(page)).to_have_count(0)
        page.wait_for_timeout(ms(0.5))  # the words the model would still have sent
        expect(messages(page)).to_have_count(0)
        page.reload()
        wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
        expect(messages(page)).to_have_count(0)
        send_and_wait(page, "Again")  # and the chat works on
        expect(messages(page, "user")).to_have_text(["Again"])
