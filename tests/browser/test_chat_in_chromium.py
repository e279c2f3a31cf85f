"""The chat panel in a real Chromium, against the real server and a real model (SmolLM2 on llama.cpp).

The page's one WebSocket (htmx's ws extension) carries the chat: the tests wait for it to open
(pipulate.js sets <html data-socket="open">), type into the chat box as a person would, and watch
the reply grow in the page. The model's words are never asserted.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.support.polling import wait_until
from tests.support.timing import ms, scaled

SHORT = "Reply in one sentence."
LONG = "Write a long story about a cat named Tom, with many details. Use at least 300 words."
SCREENSHOT = "/tmp/pipulate-chat.png"

# Reports every Content-Security-Policy violation: injected markup that tried to run would show up.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""

# The newest reply as the page shows it, and the chat's state.
LAST_REPLY = """() => {
  const replies = document.querySelectorAll("#chat-messages .msg.assistant");
  const last = replies[replies.length - 1];
  return {
    count: replies.length,
    id: last ? last.id : "",
    length: last ? last.textContent.length : 0,
    streaming: last ? last.classList.contains("streaming") : false,
    state: document.getElementById("chat-state").dataset.state,
  };
}"""



def open_app(page: Page, url: str) -> None:
    page.goto(url)
    wait_until(page, "() => document.documentElement.dataset.socket === 'open'")


def send(page: Page, text: str) -> None:
    box = page.locator("#chat-form textarea")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")  # emptied once the frame went out


def watch_reply(page: Page, replies_before: int, timeout: float = 60, stop_after_chars: int | None = 120):
    """Poll the newest reply until it has ended (final swap, state idle); answers the distinct text
    lengths seen while it was still streaming, and whether Stop had to be pressed to bound it."""
    lengths: list[int] = []
    pressed_stop = False
    deadline = time.monotonic() + scaled(timeout)
    while time.monotonic() < deadline:
        seen = page.evaluate(LAST_REPLY)
        if seen["count"] > replies_before:
            if seen["streaming"]:
                if seen["length"] and (not lengths or lengths[-1] != seen["length"]):
                    lengths.append(seen["length"])
                # A small model may ramble on a slow machine: bound the wait.
                if stop_after_chars and seen["length"] > stop_after_chars and not pressed_stop:
                    pressed_stop = True
                    try:
                        page.locator("#chat-stop button").click(timeout=ms(2))
                    except PlaywrightTimeoutError:
                        pass  # it ended by itself meanwhile (the button hid)
            elif seen["state"] == "idle":
                return lengths, pressed_stop
        time.sleep(0.02)
    raise AssertionError(f"the reply did not end within {scaled(timeout):g}s (lengths seen: {lengths})")


def test_a_reply_streams_in_stop_ends_one_and_a_reload_shows_the_history(page: Page, chat_server):
    open_app(page, chat_server.url)
    messages = page.locator("#chat-messages .msg")
    state = page.locator("#chat-state")
    stop = page.locator("#chat-stop button")
    expect(messages).to_have_count(0)
    expect(state).to_have_attribute("data-state", "idle")
    expect(stop).to_be_hidden()

    # Enter sends; the text arrives in several steps before the reply ends.
    question = "Describe the sun in two sentences."
    send(page, question)
    expect(page.locator("#chat-messages .msg.user")).to_have_text(question)
    lengths, _ = watch_reply(page, replies_before=0)
    assert len(lengths) >= 3, f"the reply did not arrive in steps: {lengths}"
    assert lengths == sorted(lengths), lengths  # it only grows
    reply = page.locator("#chat-messages .msg.assistant").last
    expect(reply).not_to_have_class(re.compile(r"\bstreaming\b"))  # replaced by its final rendering
    expect(reply).not_to_be_empty()
    expect(state).to_have_attribute("data-state", "idle")
    expect(stop).to_be_hidden()

    # Stop, pressed mid-reply, ends it at once; what arrived stays, marked stopped.
    send(page, LONG)
    expect(stop).to_be_visible()
    expect(state).to_have_attribute("data-state", "streaming")
    streaming = page.locator("#chat-messages .msg.assistant.streaming")
    wait_until(
        page,
        "() => { const r = document.querySelector('#chat-messages .msg.assistant.streaming');"
        " return r && r.textContent.length >= 10; }",
        timeout=60,
    )
    stop.click()
    pressed = time.monotonic()
    expect(state).to_have_attribute("data-state", "idle", timeout=ms(2))
    took = time.monotonic() - pressed
    assert took < scaled(2), f"the reply went on for {took:.1f}s after Stop"
    expect(streaming).to_have_count(0)
    expect(page.locator("#chat-messages .msg.assistant").last.locator(".msg-note")).to_have_text("Stopped.")
    expect(stop).to_be_hidden()

    # A reload shows the same conversation, from the history.
    before = [messages.nth(i).inner_text() for i in range(messages.count())]
    roles = page.evaluate("() => [...document.querySelectorAll('#chat-messages .msg')].map(m => m.className)")
    assert roles == ["msg user", "msg assistant", "msg user", "msg assistant"], roles
    page.reload()
    wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
    expect(messages).to_have_count(4)
    assert [messages.nth(i).inner_text() for i in range(4)] == before
    assert page.evaluate("() => [...document.querySelectorAll('#chat-messages .msg')].map(m => m.className)") == roles

    # The socket of the reloaded page chats too.
    send(page, f"Name a colour. {SHORT}")
    watch_reply(page, replies_before=2)
    expect(messages).to_have_count(6)
    page.locator("#chat-messages").evaluate("box => { box.scrollTop = 0; }")
    page.screenshot(path=SCREENSHOT)


MARKUP = '<img src=x onerror="window.__xss=1"> <script>window.__xss=1</script> <b onclick="window.__xss=1">hi</b>'


def test_markup_typed_into_the_chat_shows_as_text_and_runs_nothing(page: Page, chat_server):
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    open_app(page, chat_server.url)
    message = f"Repeat exactly: {MARKUP}"
    send(page, message)
    expect(page.locator("#chat-messages .msg.user")).to_have_text(message)
    watch_reply(page, replies_before=0, stop_after_chars=25)
    for tag in ("img", "script", "b"):
        expect(page.locator(f"#chat-messages {tag}")).to_have_count(0)
    page.reload()  # and from the history
    wait_until(page, "() => document.documentElement.dataset.socket === 'open'")
    expect(page.locator("#chat-messages .msg.user")).to_have_text(message)
    for tag in ("img", "script", "b"):
        expect(page.locator(f"#chat-messages {tag}")).to_have_count(0)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__cspViolations") == []


def test_the_model_picker_lists_the_servers_models(page: Page, servers, llama_server):
    # Started with the brand's default model, which the server does not have.
    server = servers("--llm-url", llama_server.url)
    with page.expect_response(lambda r: "/chat/models" in r.url) as models:
        open_app(page, server.url)
    assert models.value.status == 200
    picker = page.locator("#chat-model")
    expect(picker.locator("option")).to_have_count(2)
    assert picker.locator("option").all_inner_texts() == ["llama3.2", "smollm2"]
    expect(picker).to_have_value("llama3.2")

    # Asking the missing model says so, naming it.
    send(page, "Hello?")
    expect(page.locator("#chat-messages .msg.error")).to_contain_text("'llama3.2'")
    expect(page.locator("#chat-state")).to_have_attribute("data-state", "idle")
    replies_before = page.locator("#chat-messages .msg.assistant").count()

    with page.expect_response(lambda r: r.url.endswith("/chat/model") and r.request.method == "POST") as chosen:
        picker.select_option("smollm2")
    assert chosen.value.status == 200
    send(page, f"Hello? {SHORT}")
    lengths, _ = watch_reply(page, replies_before, stop_after_chars=20)
    assert lengths, "no text from smollm2"

    page.reload()  # the choice is kept
    expect(page.locator("#chat-model")).to_have_value("smollm2")


def test_the_long_task_shows_progress_in_its_card_and_in_the_chat(page: Page, chat_server):
    """The Long task is a workflow with one background step: its card and the chat show the same bar."""
    open_app(page, chat_server.url)
    page.get_by_role("link", name="Long task").click()
    expect(page.locator("#app-panel h2")).to_have_text("Long task")
    page.get_by_role("button", name="Start a new run").click()
    page.get_by_label("Steps").fill("3")
    page.get_by_label("Seconds per step").fill("0.4")
    page.get_by_role("button", name="Next").click()

    card_bar = page.locator(".step.running progress")
    expect(card_bar).to_be_visible()
    chat_bar = page.locator("#chat-messages .msg.progress progress")
    expect(chat_bar).to_be_visible()
    expect(chat_bar).to_have_attribute("max", "3")
    expect(page.locator(".step.done .result")).to_contain_text("6", timeout=ms(15))  # 1 + 2 + 3
    expect(chat_bar).to_have_count(1)  # updated in place, not repeated
    expect(page.locator("#chat-messages .msg.progress .progress-note")).to_have_text("done")
