"""Settings: what a profile sets for itself, on one page. The chat's system prompt, temperature,
context budget and default model, and the page's theme (follow the system, light or dark).

Stored per profile (pipulate/_profile_settings.py); a field left empty uses the app's setting
from pipulate.toml, which the page shows as the placeholder.
"""

from __future__ import annotations

from fasthtml.common import (
    H2,
    Button,
    Div,
    Fieldset,
    Form,
    Input,
    Label,
    Legend,
    Option,
    P,
    Select,
    Small,
    Span,
    Textarea,
)

from .._plugins import Plugin, route
from .._ui.layout import profile_switcher

THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsApp(Plugin):
    name = "settings"
    label = "Settings"
    menu_order = 95

    async def render(self, request):
        profile = self.core.profiles.selected()
        mine = self.core.profile_settings.get(profile.id)
        app = self.core.settings
        chat = self.core.plugins.get("chat")
        default_prompt = chat.system_prompt(0) if chat is not None else ""
        given = app.model_given
        return (
            H2("Settings ", Span(profile.name, cls="badge")),
            P("These settings belong to this profile; an empty field uses the app's.", cls="hint"),
            Form(
                Fieldset(
                    Legend("Chat"),
                    _field("System prompt", Textarea(mine.system_prompt, name="system_prompt", id="set-system-prompt",
                                                     rows="4", placeholder=default_prompt),
                           "What the model is told before every conversation.", "set-system-prompt"),
                    _field("Temperature", Input(type="number", name="temperature", id="set-temperature", min="0", max="2",
                                                step="0.1", value="" if mine.temperature is None else str(mine.temperature),
                                                placeholder="the model's own"),
                           "0 answers the same way each time; higher values vary more (up to 2).", "set-temperature"),
                    _field("Context budget (tokens)", Input(type="number", name="context_tokens", id="set-context",
                                                            min="256", max="1000000", step="1",
                                                            value="" if mine.context_tokens is None else str(mine.context_tokens),
                                                            placeholder=str(app.chat_context_tokens)),
                           "How much of the conversation is sent with each message.", "set-context"),
                    _field("Default model", Input(name="model", id="set-model", value=mine.model, placeholder=app.model,
                                                  autocomplete="off", disabled=given),
                           f"{app.model} was given when the server started: it answers for this run." if given
                           else "The chat's model picker sets it too.", "set-model"),
                ),
                Fieldset(
                    Legend("Page"),
                    _field("Theme", Select(*[Option(label, value=value, selected=value == mine.theme)
                                             for value, label in THEME_LABELS.items()],
                                           name="theme", id="set-theme", data_theme_choice=True),
                           "Dark or light; “Follow the system” uses your computer's setting.", "set-theme"),
                ),
                Div(Button("Save"), Span(id="settings-saved", cls="saved-note", role="status"), cls="actions"),
                id="settings-form",
                cls="settings-form",
                hx_post="/settings",
                hx_swap="none",
                hx_sync="this:drop",
            ),
        )

    @route.post("")
    async def save(self, system_prompt: str = "", temperature: str = "", context_tokens: str = "",
                   model: str | None = None, theme: str = "system"):
        profile = self.core.profiles.selected()
        changes = dict(system_prompt=system_prompt, temperature=temperature, context_tokens=context_tokens, theme=theme)
        if model is not None and not self.core.settings.model_given:
            changes["model"] = model
        self.core.profile_settings.update(profile.id, **changes)  # every field is checked before any is kept
        # The profile's pages ask again which model answers (the default model may have changed).
        await self.core.signal_pages("models", profile.id)
        # The switcher carries the profile's theme (pipulate.js applies it from there).
        return (Span("Saved.", id="settings-saved", cls="saved-note", role="status", hx_swap_oob="true"),
                profile_switcher(self.core, oob=True))


def _field(label: str, control, help_text: str, control_id: str) -> Div:
    return Div(Label(label, fr=control_id), control, Small(help_text, cls="field-help"), cls="field")
