"""What each profile sets for itself (the Settings page): the chat's system prompt, temperature,
context budget and default model, and the page's theme. Kept in the store, one JSON value per
profile; a value left empty falls back to the app's setting (pipulate.toml), so a profile only
holds what it changed.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from ._errors import UserError
from ._text import clean_text

THEMES = ("system", "light", "dark")
SYSTEM_PROMPT_LIMIT = 4000
MODEL_NAME_LIMIT = 200
_KEY = "profile_settings:{}"


@dataclass(frozen=True)
class ProfileSettings:
    system_prompt: str = ""  # empty: the app's (system_prompt in pipulate.toml, else a short default)
    temperature: float | None = None  # None: the model's own default
    context_tokens: int | None = None  # None: chat_context_tokens of the app
    model: str = ""  # the profile's model (the chat's picker sets it too); empty: the brand's
    theme: str = "system"  # follows the system's light or dark preference, or is fixed


class ProfileSettingsStore:
    def __init__(self, store) -> None:
        self._store = store

    def get(self, profile_id: int) -> ProfileSettings:
        """The profile's settings; a stored value that is no longer acceptable (an older
        version's, or edited by hand) is ignored rather than breaking every page."""
        raw = self._store.get(_KEY.format(profile_id))
        values = {}
        if isinstance(raw, dict):
            for name, value in raw.items():
                try:
                    values[name] = _check(name, value)
                except (UserError, KeyError):
                    continue
        return ProfileSettings(**values)

    def update(self, profile_id: int, **changes) -> ProfileSettings:
        """Check every change (UserError naming the field), then store them all."""
        checked = {name: _check(name, value) for name, value in changes.items()}
        settings = replace(self.get(profile_id), **checked)
        defaults = asdict(ProfileSettings())
        self._store[_KEY.format(profile_id)] = {k: v for k, v in asdict(settings).items() if v != defaults[k]}
        return settings

    def delete(self, profile_id: int) -> None:
        self._store.pop(_KEY.format(profile_id), None)

    def export(self, profile_id: int) -> dict:
        return {k: v for k, v in asdict(self.get(profile_id)).items() if v != asdict(ProfileSettings())[k]}


def _check(name: str, value):
    """A setting's value as stored, or UserError with a sentence naming it."""
    if name == "system_prompt":
        if value in (None, ""):
            return ""
        return clean_text(value, field="The system prompt", max_length=SYSTEM_PROMPT_LIMIT, multiline=True)
    if name == "temperature":
        if value in (None, ""):
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise UserError("The temperature must be a number between 0 and 2 (or empty for the model's own).") from None
        if not math.isfinite(number) or not 0 <= number <= 2:
            raise UserError(f"The temperature must be between 0 and 2, not {value}.")
        return round(number, 3)
    if name == "context_tokens":
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise UserError("The context budget must be a whole number of tokens (or empty for the app's).")
        number = int(str(value).strip())
        if not 256 <= number <= 1_000_000:
            raise UserError(f"The context budget must be between 256 and 1,000,000 tokens, not {number:,}.")
        return number
    if name == "model":
        if value in (None, ""):
            return ""
        return clean_text(value, field="The model name", max_length=MODEL_NAME_LIMIT)
    if name == "theme":
        if value not in THEMES:
            raise UserError("The theme is one of: follow the system, light or dark.")
        return value
    raise KeyError(name)
