"""The Settings page in a real Chromium: a profile's system prompt, temperature, context budget and
default model reach the model (the scripted server records every request), each profile keeps its
own, the theme follows the system or the switch, and a conversation exports as Markdown.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_todos_in_chromium import settled, switch_profile
from tests.support.chat_page import open_chat, send_and_wait
from tests.support.scripted_model_server import ScriptedModelServer

DARK_CANVAS = "rgb(18, 24, 29)"  # --canvas of the dark theme (pipulate.css)
LIGHT_CANVAS = "rgb(244, 246, 247)"


def open_settings(page: Page) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.locator("#app-panel h2")).to_contain_text("Settings")
    settled(page)


def save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#settings-saved")).to_have_text("Saved.")
    settled(page)


def background(page: Page) -> str:
    return page.evaluate("() => getComputedStyle(document.documentElement).backgroundColor")


def test_a_profiles_settings_reach_the_model_and_stay_with_the_profile(page: Page, servers):
    with ScriptedModelServer(lambda conversation: ["Arr."], models=("llama3.2", "pirate-7b")) as model:
        app = servers("--llm-url", model.url)
        with app.client() as client:
            client.post("/profiles", data={"name": "Work"}, headers={"HX-Request": "true"})
        open_chat(page, app.url)
        open_settings(page)
        page.get_by_label("System prompt").fill("You are a pirate.")
        page.get_by_label("Temperature").fill("0.3")
        page.get_by_label("Context budget (tokens)").fill("512")
        page.get_by_label("Default model").fill("pirate-7b")
        save(page)
        expect(page.locator("#chat-model")).to_have_value("pirate-7b")  # the picker follows

        send_and_wait(page, "Hello " + "x" * 3000)
        send_and_wait(page, "And now?")
        request = model.received[-1]
        assert request["model"] == "pirate-7b" and request["temperature"] == 0.3
        assert request["messages"][0] == {"role": "system", "content": "You are a pirate."}
        # 512 tokens leave no room for the long first question: only the newest turns are sent.
        assert [m["content"] for m in request["messages"][1:]] == ["Arr.", "And now?"]

        page.reload()  # kept
        expect(page.get_by_label("System prompt")).to_have_value("You are a pirate.")
        expect(page.get_by_label("Temperature")).to_have_value("0.3")

        # Another profile has its own: none of these.
        switch_profile(page, "Work")
        expect(page.get_by_label("System prompt")).to_have_value("")
        expect(page.get_by_label("Temperature")).to_have_value("")
        send_and_wait(page, "Who are you?")
        request = model.received[-1]
        assert request["model"] == "llama3.2" and "temperature" not in request
        assert request["messages"][0]["content"] != "You are a pirate."

        # A wrong value is refused with a sentence (by the browser here, by the server for a script:
        # tests/apps/test_settings_over_http.py), and nothing of the form is kept.
        page.get_by_label("Temperature").fill("7")
        page.get_by_label("System prompt").fill("Changed")
        page.get_by_role("button", name="Save", exact=True).click()
        assert page.get_by_label("Temperature").evaluate("input => input.validationMessage")
        page.reload()
        expect(page.get_by_label("System prompt")).to_have_value("")


def test_the_theme_follows_the_system_and_the_switch(chromium, server):
    context = chromium.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(server.url + "/settings")
        assert background(page) == DARK_CANVAS  # the system prefers dark: so does the page
        assert page.evaluate("() => getComputedStyle(document.querySelector('#app-panel')).color") != "rgb(29, 36, 40)"
        page.get_by_label("Theme").select_option("light")
        assert background(page) == LIGHT_CANVAS  # at once
        save(page)
        page.reload()
        assert background(page) == LIGHT_CANVAS  # kept
        page.get_by_label("Theme").select_option("dark")
        save(page)
        page.emulate_media(color_scheme="light")
        page.reload()
        assert background(page) == DARK_CANVAS  # the switch wins over the system
        page.get_by_label("Theme").select_option("system")
        save(page)
        assert background(page) == LIGHT_CANVAS
        page.screenshot(path="/tmp/pipulate-settings.png", full_page=True)
    finally:
        context.close()


def test_a_conversation_exports_as_markdown(page: Page, servers):
    with ScriptedModelServer(lambda conversation: ["Use **`ls`**."]) as model:
        app = servers("--llm-url", model.url, "--model", "scripted")
        open_chat(page, app.url)
        send_and_wait(page, "How do I list files?")
        with page.expect_download() as download:
            page.get_by_role("link", name="Export").click()
        assert download.value.suggested_filename == "chat-default.md"
        text = open(download.value.path(), encoding="utf-8").read()
        assert text == "# Pipulate chat · Default\n\n## You\n\nHow do I list files?\n\n## Assistant\n\nUse **`ls`**.\n"
