"""Which model answers, as the page shows it, in a real Chromium: the picker shows the model that
will actually answer (the embedded one with --model-file, "no model server" in words when nothing
answers, never a stale name), a line says which server and model are connected, a model named in
the page can be pulled into Ollama with its progress in the chat, and app events stay out of the
conversation.

Real models where the point is the model: SmolLM2 in-process (--model-file) and the test Ollama
(llama.cpp behind Ollama's API, tests/support/ollama_server.py), whose /api/pull streams progress.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_todos_in_chromium import add_todo
from tests.support.chat_page import IDLE, messages, open_chat, send_and_wait, type_and_send
from tests.support.llm import HOW_TO_GET_LLAMA, llama_cpp_installed
from tests.support.ollama_server import start_ollama_server
from tests.support.polling import wait_until
from tests.support.requirements import require
from tests.support.scripted_model_server import MODEL, ScriptedModelServer
from tests.support.server import free_port
from tests.support.timing import ms


def status(page: Page):
    return page.locator("#chat-model-status")


def picker(page: Page):
    return page.locator("#chat-model")


def test_with_a_model_file_and_no_server_the_embedded_model_is_shown_and_answers(page: Page, servers, model_file):
    require(llama_cpp_installed(), "llama-cpp-python", HOW_TO_GET_LLAMA)
    nowhere = f"http://127.0.0.1:{free_port()}"
    app = servers("--llm-url", nowhere, "--model-file", str(model_file))
    open_chat(page, app.url)
    expect(status(page)).to_have_text(f"No server at {nowhere}: the embedded model {model_file.name} answers.")
    expect(picker(page).locator("option")).to_have_text([model_file.stem])
    expect(picker(page)).to_have_value(model_file.stem)
    type_and_send(page, "Say hello in one short sentence.")
    wait_until(page, "() => { const r = document.querySelector('#chat-messages .msg.assistant');"
                     " return r && r.textContent.length > 0; }", timeout=60)
    page.locator("#chat-stop button").click()  # the small model may ramble: what arrived is enough
    wait_until(page, IDLE, timeout=30)
    expect(messages(page, "error")).to_have_count(0)


def test_with_no_server_the_picker_says_so_and_follows_a_server_that_starts(page: Page, servers):
    model = ScriptedModelServer(lambda conversation: ["Here now."])
    nowhere = model.url  # its port, before the server listens on it
    app = servers("--llm-url", nowhere)
    open_chat(page, app.url)
    expect(status(page)).to_contain_text(f"No model server answers at {nowhere}.")
    expect(picker(page).locator("option")).to_have_text(["no model server"])
    send_and_wait(page, "Anyone?")
    expect(messages(page, "error")).to_contain_text(f"No model server answers at {nowhere}.")
    expect(messages(page, "error").locator("code").first).to_have_text("ollama serve")  # not `backticks`

    with model:  # the server starts: the next message is answered and the page says who answers
        model.models = ("llama3.2",)
        send_and_wait(page, "Anyone now?")
        expect(messages(page, "assistant")).to_have_text(["Here now."])
        expect(status(page)).to_have_text(f"OpenAI-compatible server at {nowhere} · llama3.2")
        expect(picker(page)).to_have_value("llama3.2")


def test_a_model_given_on_the_command_line_is_shown_locked_with_the_reason(page: Page, servers):
    with ScriptedModelServer(models=(MODEL, "other")) as model:
        app = servers("--llm-url", model.url, "--model", MODEL)
        open_chat(page, app.url)
        expect(picker(page)).to_be_disabled()
        expect(picker(page)).to_have_value(MODEL)
        expect(page.locator("#chat-model-note")).to_contain_text(f"{MODEL} was given when the server started")
        expect(status(page)).to_have_text(f"OpenAI-compatible server at {model.url} · {MODEL}")


def test_a_model_named_in_the_page_is_pulled_into_ollama_with_its_progress(page: Page, servers, model_file, tmp_path):
    require(llama_cpp_installed(), "llama-cpp-python", HOW_TO_GET_LLAMA)
    ollama = start_ollama_server(model_file, tmp_path, "--pull-delay", "0.25", "--max-tokens", "12")
    try:
        app = servers("--llm-url", ollama.url)
        open_chat(page, app.url)
        expect(status(page)).to_have_text(f"Ollama at {ollama.url}, which does not have llama3.2: pull it below, or pick another.")
        pull = page.locator("#chat-pull")
        expect(pull).to_be_visible()

        pull.get_by_label("Model to pull").fill("test-tiny")
        pull.get_by_role("button", name="Pull").click()
        bar = page.locator("#chat-messages .msg.progress")
        expect(bar.locator(".progress-label")).to_contain_text("Pulling test-tiny")
        # The download's progress shows as it comes (Ollama's bytes, as a share and in MB).
        wait_until(page, "() => { const p = document.querySelector('#chat-messages .msg.progress progress');"
                         " return p && p.value > 0 && p.value < 100; }", timeout=10)
        expect(bar.locator(".progress-note")).to_contain_text(" MB of 48.0 MB")
        expect(bar.locator(".progress-note")).to_have_text("done: it is in the model list now", timeout=ms(10))
        expect(bar).to_have_count(1)  # one bar, updated in place
        # The picker asked again: the pulled model is there, and answers.
        expect(picker(page).locator("option", has_text="test-tiny:latest")).to_have_count(1)
        picker(page).select_option("test-tiny:latest")
        expect(status(page)).to_have_text(f"Ollama at {ollama.url} · test-tiny:latest")
        type_and_send(page, "Hi")
        wait_until(page, IDLE, timeout=60)
        expect(messages(page, "assistant")).to_have_count(1)
        expect(messages(page, "error")).to_have_count(0)

        # A name Ollama does not know: the bar says why.
        pull.get_by_label("Model to pull").fill("no-such-model")
        pull.get_by_role("button", name="Pull").click()
        expect(bar.nth(1).locator(".progress-note")).to_contain_text("failed: Ollama could not pull “no-such-model”")
    finally:
        ollama.stop()


def test_app_events_are_a_line_apart_never_sent_to_the_model_and_plain_text(page: Page, servers):
    with ScriptedModelServer() as model:  # echoes each message
        app = servers("--llm-url", model.url, "--model", MODEL)
        open_chat(page, app.url + "/todos")
        title = "**bold** and [a link](https://example.com)"
        add_todo(page, title)
        line = page.locator("#chat-activity")
        expect(line).to_be_visible()
        expect(line.locator(".activity-text")).to_have_text(f"Added a todo: {title}")
        expect(line.locator("strong, a")).to_have_count(0)
        expect(messages(page)).to_have_count(0)  # not part of the conversation
        line.get_by_role("button", name="Dismiss").click()
        expect(line).to_be_hidden()

        send_and_wait(page, "What did I just do?")
        sent = model.received[-1]["messages"]
        assert [m["role"] for m in sent] == ["system", "user"]
        assert "Added a todo" not in str(sent)
        page.reload()
        expect(messages(page)).to_have_count(2)  # nor kept in it
