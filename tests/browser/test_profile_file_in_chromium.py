"""A profile as one file from the Profiles page, in a real Chromium: Export downloads it, Import in
another copy of the app (its own data dir) makes a new profile with the same todos and chat."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.browser.test_todos_in_chromium import (
    add_todo,
    open_profiles,
    open_todos,
    settled,
    switch_profile,
    todo_titles,
)
from tests.support.chat_page import messages


def test_export_a_profile_and_import_it_into_another_app(page: Page, servers, tmp_path):
    first = servers()
    with first.client() as client:
        client.get("/")
    open_todos(page, first.url)
    add_todo(page, "Water the plants")
    add_todo(page, "Call **Ann**")
    with sqlite3.connect(first.data_dir / "pipulate.db") as db:  # a conversation, as if the chat had happened
        db.execute("INSERT INTO chat_messages (profile_id, role, content, status, created_at) "
                   "VALUES (1, 'user', 'What should I do today?', 'complete', 0)")
    open_profiles(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Export profile Default").click()
    assert download.value.suggested_filename == "default.pipulate-profile.zip"
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)

    second = servers()
    open_todos(page, second.url)
    open_profiles(page)
    page.get_by_label("Profile file to import").set_input_files(exported)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#flash")).to_have_text("Imported “Default (imported)”.")
    expect(page.locator("#profile-list .profile-name")).to_have_text(["Default", "Default (imported)"])
    settled(page)
    switch_profile(page, "Default (imported)")
    page.get_by_role("link", name="Todos", exact=True).click()
    expect(todo_titles(page)).to_have_text(["Water the plants", "Call **Ann**"])
    expect(messages(page, "user")).to_have_text(["What should I do today?"])

    # A file that is not one is refused with a sentence, and nothing is made.
    (tmp_path / "notes.zip").write_bytes(b"not a zip at all")
    open_profiles(page)
    page.get_by_label("Profile file to import").set_input_files(tmp_path / "notes.zip")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#flash")).to_have_text("That file is not an exported profile (it is not a zip file).")
    expect(page.locator("#profile-list .profile-name")).to_have_count(2)
