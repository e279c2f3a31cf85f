"""The Settings page's route through the app (in-process client): every field is checked before any
is kept, each profile has its own, and a deleted profile takes its settings along."""

from __future__ import annotations

import pytest

HTMX = {"HX-Request": "true"}
GOOD = {"system_prompt": "Be brief.", "temperature": "0.7", "context_tokens": "4096", "model": "m1", "theme": "dark"}


def settings_of(app, profile_id: int):
    return app.state.core.profile_settings.get(profile_id)


def test_saved_settings_belong_to_the_profile_the_page_shows(app, client):
    client.get("/")  # the first page makes the Default profile (1)
    second = client.post("/profiles", data={"name": "Second"}, headers=HTMX)
    assert second.status_code == 200
    answer = client.post("/settings", data=GOOD, headers={**HTMX, "X-Pipulate-Profile": "2"})
    assert answer.status_code == 200 and "Saved." in answer.text
    assert settings_of(app, 2).temperature == 0.7 and settings_of(app, 2).theme == "dark"
    assert settings_of(app, 1).temperature is None and settings_of(app, 1).theme == "system"
    # The page of that profile is drawn dark; the other follows the system.
    assert 'data-theme="dark"' in client.get("/settings", headers={"X-Pipulate-Profile": "2"}).text
    assert 'data-theme="system"' in client.get("/settings").text
    client.delete("/profiles/2", headers=HTMX)
    assert "profile_settings:2" not in app.state.core.store


@pytest.mark.parametrize("field, value, message", [
    ("temperature", "7", "The temperature must be between 0 and 2, not 7."),
    ("temperature", "warm", "The temperature must be a number between 0 and 2"),
    ("temperature", "nan", "The temperature must be between 0 and 2, not nan."),
    ("context_tokens", "12", "The context budget must be between 256 and 1,000,000 tokens, not 12."),
    ("context_tokens", "1e9", "The context budget must be a whole number of tokens"),
    ("theme", "neon", "The theme is one of: follow the system, light or dark."),
    ("system_prompt", "x" * 4001, "The system prompt is 4,001 characters long; the limit is 4,000. Nothing was saved."),
    ("model", "a\u202eb", "right-to-left override"),
])
def test_a_wrong_value_is_refused_with_a_sentence_and_nothing_is_kept(app, client, field, value, message):
    answer = client.post("/settings", data={**GOOD, field: value}, headers=HTMX)
    assert answer.status_code == 422 and message in answer.text, answer.text
    assert answer.headers["HX-Retarget"] == "#flash"
    assert settings_of(app, 1).system_prompt == ""  # the good fields were not kept either


def test_empty_fields_fall_back_to_the_apps_settings(app, client):
    client.post("/settings", data=GOOD, headers=HTMX)
    client.post("/settings", data={"system_prompt": "", "temperature": "", "context_tokens": "", "model": "",
                                   "theme": "system"}, headers=HTMX)
    assert app.state.core.store.get("profile_settings:1") == {}
