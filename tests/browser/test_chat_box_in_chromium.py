"""The chat as a person uses it all day, in a real Chromium against the real server: what was
typed is never lost, the connection's state shows, a failed reply stays in the conversation with
Retry, replies have Copy and Regenerate, the last message can be edited and sent again, and code
comes highlighted with a Copy button.

The model is the scripted OpenAI-compatible server (tests/support/scripted_model_server.py): these
tests are about what the page does with exact replies, failures and timing, not about a model.
"""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from tests.support.chat_page import IDLE, STREAMING, action, box, messages, open_chat, send_and_wait, type_and_send
from tests.support.polling import wait_until
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.server import free_port
from tests.support.timing import ms, scaled


def start(servers, model, **options):
    return servers("--llm-url", model.url, "--model", MODEL, **options)


def allow_clipboard(page: Page, url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)


def clipboard(page: Page) -> str:
    return page.evaluate("() => navigator.clipboard.readText()")


def test_what_was_typed_stays_in_the_box_until_the_server_takes_it(page: Page, servers):
    with ScriptedModelServer(lambda messages: ["word "] * 60, delay=0.05) as model:
        app = start(servers, model)
        open_chat(page, app.url)
        note = page.locator("#chat-note")

        # Too long: the server refuses it; the box keeps it and the reason shows beside it.
        too_long = "x" * 4001
        type_and_send(page, too_long)
        expect(note).to_have_text("That message is 4,001 characters; the limit is 4,000. It was not sent.")
        expect(box(page)).to_have_value(too_long)
        expect(messages(page)).to_have_count(0)

        # Sent while a reply is still coming: kept, with the reason.
        type_and_send(page, "first question")
        expect(box(page)).to_have_value("")  # taken: the box empties, the note goes
        expect(note).to_be_empty()
        wait_until(page, STREAMING)
        type_and_send(page, "second question")
        expect(note).to_have_text("A reply is still coming: wait for it, or press Stop. Your message is kept here.")
        expect(box(page)).to_have_value("second question")

        # Once the reply has ended, Enter sends it, and only then does the box empty.
        wait_until(page, IDLE, timeout=15)
        box(page).press("Enter")
        expect(box(page)).to_have_value("")
        expect(messages(page, "user")).to_have_text(["first question", "second question"])
        wait_until(page, IDLE, timeout=15)


def test_a_stopped_server_shows_at_once_and_the_page_recovers_when_it_is_back(page: Page, servers, tmp_path):
    with ScriptedModelServer(lambda messages: ["back ", "again"]) as model:
        port, data = free_port(), tmp_path / "data"
        app = start(servers, model, data_dir=data, port=port)
        open_chat(page, app.url)
        banner = page.locator("#connection-banner")
        expect(banner).to_be_hidden()

        app.stop()
        stopped = time.monotonic()
        expect(banner).to_be_visible(timeout=ms(2))
        assert time.monotonic() - stopped < scaled(2)
        expect(banner).to_have_text("Disconnected from the app; retrying…")

        # Nothing does nothing: the chat keeps the message and says why; an action over HTTP says
        # the app did not answer.
        type_and_send(page, "are you there?")
        expect(page.locator("#chat-note")).to_contain_text("Not connected to the app: your message is kept here")
        expect(box(page)).to_have_value("are you there?")
        page.get_by_label("New todo").fill("made while the server was down")
        page.get_by_role("button", name="Add", exact=True).click()
        expect(page.locator("#flash")).to_contain_text("The app did not answer: the server may have stopped.")

        start(servers, model, data_dir=data, port=port)
        expect(banner).to_be_hidden(timeout=ms(10))
        wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
        box(page).press("Enter")  # the kept message goes now
        expect(box(page)).to_have_value("")
        expect(messages(page, "assistant")).to_have_text(["back again"])


def test_a_failed_reply_stays_in_the_conversation_and_retry_answers_it(page: Page, servers):
    calls = []

    def script(conversation):
        calls.append(conversation)
        if len(calls) == 1:
            return ["Half an ans", b'data: {"error": "the model ran out of memory"}\n\n']
        return ["Here ", "is ", "**the** answer."]

    with ScriptedModelServer(script) as model:
        app = start(servers, model)
        open_chat(page, app.url)
        send_and_wait(page, "What is the answer?")
        error = messages(page, "error")
        expect(error).to_have_text(f"The server at {model.url} reported: the model ran out of memory")
        # What arrived is kept, marked as cut short.
        expect(messages(page, "assistant").locator("p").first).to_have_text("Half an ans")
        expect(messages(page, "assistant").locator(".msg-note")).to_have_text("The reply was cut short.")

        # A reload shows the question with the reason it has no answer, not a question hanging.
        page.reload()
        wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
        expect(messages(page)).to_have_count(3)
        expect(error).to_contain_text("ran out of memory")
        retry = action(page, error, "Retry")
        expect(retry).to_be_visible()

        retry.click()
        wait_until(page, IDLE)
        expect(messages(page, "error")).to_have_count(0)
        expect(messages(page, "assistant")).to_have_text(["Here is the answer."])
        assert calls[1][-1] == {"role": "user", "content": "What is the answer?"}  # the same question
        assert [m["role"] for m in calls[1]] == ["system", "user"]  # without the failed half
        page.reload()
        expect(messages(page)).to_have_count(2)


def test_copy_regenerate_and_edit_the_last_message(page: Page, servers):
    calls = []

    def script(conversation):
        calls.append(conversation)
        question = conversation[-1]["content"]
        return [f"**Answer {len(calls)}** to ", question]

    with ScriptedModelServer(script) as model:
        app = start(servers, model)
        allow_clipboard(page, app.url)
        open_chat(page, app.url)
        send_and_wait(page, "Q1")
        send_and_wait(page, "Q2")
        replies = messages(page, "assistant")
        expect(replies).to_have_text(["Answer 1 to Q1", "Answer 2 to Q2"])

        # Copy gives the reply as it was written (its Markdown).
        action(page, replies.first, "Copy").click()
        expect(action(page, replies.first, "Copy")).to_have_attribute("data-copied", "1")
        assert clipboard(page) == "**Answer 1** to Q1"

        # Regenerate a reply in the middle: it is answered again in place, from what came before it.
        action(page, replies.first, "Regenerate").click()
        expect(replies).to_have_text(["Answer 3 to Q1", "Answer 2 to Q2"])
        assert [m["content"] for m in calls[2][1:]] == ["Q1"]
        wait_until(page, IDLE)
        # ...and the last one: replaced at the end.
        action(page, replies.last, "Regenerate").click()
        expect(replies).to_have_text(["Answer 3 to Q1", "Answer 4 to Q2"])
        wait_until(page, IDLE)

        # Only the last message of yours can be edited; editing puts it back in the box.
        questions = messages(page, "user")
        expect(action(page, questions.first, "Edit and resend")).to_be_hidden()
        action(page, questions.last, "Edit and resend").click()
        expect(box(page)).to_have_value("Q2")
        expect(page.locator("#chat-note")).to_contain_text("Editing your last message")
        box(page).fill("Q2, better put")
        box(page).press("Enter")
        expect(box(page)).to_have_value("")
        wait_until(page, IDLE)
        expect(questions).to_have_text(["Q1", "Q2, better put"])
        expect(replies).to_have_text(["Answer 3 to Q1", "Answer 5 to Q2, better put"])
        assert [m["content"] for m in calls[4][1:]] == ["Q1", "**Answer 3** to Q1", "Q2, better put"]
        page.reload()
        expect(questions).to_have_text(["Q1", "Q2, better put"])
        expect(replies).to_have_text(["Answer 3 to Q1", "Answer 5 to Q2, better put"])


CODE = 'def greet(name):\n    return f"hi {name}"  # <b>not bold</b>\n'


def test_code_is_highlighted_on_the_server_and_has_a_copy_button(page: Page, servers):
    with ScriptedModelServer(lambda conversation: ["Try this:\n```python\n", CODE, "```\nDone."]) as model:
        app = start(servers, model)
        allow_clipboard(page, app.url)
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        open_chat(page, app.url)
        send_and_wait(page, "Show me code")
        block = page.locator("#chat-messages .msg.assistant .code-block")
        expect(block).to_have_count(1)
        keyword = block.locator("pre span.k").first
        expect(keyword).to_have_text("def")
        plain = block.locator("pre span.n").first
        colours = page.evaluate("([a, b]) => [getComputedStyle(a).color, getComputedStyle(b).color]",
                                [keyword.element_handle(), plain.element_handle()])
        assert colours[0] != colours[1], colours  # coloured by the stylesheet
        expect(block.locator("b")).to_have_count(0)
        block.get_by_role("button", name="Copy code").click()
        assert clipboard(page).rstrip("\n") == CODE.rstrip("\n")
        assert all(url.startswith(app.url) for url in requests)  # no highlighter from a CDN
        # The same after a reload (rendered from the history).
        page.reload()
        expect(page.locator("#chat-messages .code-block pre span.k").first).to_have_text("def")
