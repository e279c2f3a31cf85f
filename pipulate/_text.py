"""The one place text from users and models is checked before it is stored or shown.

Python strings can hold what UTF-8 (and so SQLite, the browser and the WebSocket) cannot: a lone
surrogate (from JSON's "\\ud800"), and characters that are legal but harmful in a title: NUL and
other control characters, bidi overrides that make "‮evil" display as "live", and invisible
characters that make a title of zero-width spaces look filled in. Two policies:

- `clean_text` is for input a person typed (forms, chat messages, settings): it refuses what it
  cannot keep, with a message saying why, so nothing half-right is stored.
- `clean_model_text` is for text a model or a server produced: it cannot be sent back, so what
  cannot be kept is replaced (U+FFFD) or dropped, and the rest goes on.

Both normalise to NFC, so the same title typed two ways compares equal.
"""

from __future__ import annotations

import re
import unicodedata

from ._errors import UserError

# Embeddings, overrides and isolates: they reorder how the rest of a line is displayed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters that draw nothing but are not in a "format" or "separator" category.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Control characters (Cc) but tab and line feed; carriage returns are folded into line feeds.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: object, *, field: str, max_length: int, multiline: bool = False) -> str:
    """Text a person typed, ready to store: NFC, stripped, visible, at most `max_length`.

    One-line text (a title, a name) has its runs of white space folded into one space;
    `multiline` text (a chat message) keeps its line breaks. Raises `UserError` (422) with a
    message naming `field` when the text cannot be accepted as it is.
    """
    if not isinstance(value, str):
        raise UserError(f"{field} must be text.")
    if _SURROGATES.search(value):
        raise UserError(f"{field} contains characters that are not valid Unicode; nothing was saved.")
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    else:
        text = " ".join(text.split())  # newlines and runs of spaces become one space
    if _CONTROLS.search(text) or (not multiline and "\t" in text):
        raise UserError(f"{field} contains control characters; nothing was saved.")
    if any(ch in BIDI_CONTROLS for ch in text):
        raise UserError(
            f"{field} contains a right-to-left override character, which would make it display "
            "differently from what it says; nothing was saved."
        )
    if not is_visible(text):
        raise UserError(f"{field} cannot be empty.")
    if len(text) > max_length:
        raise UserError(f"{field} is {len(text):,} characters long; the limit is {max_length:,}. Nothing was saved.")
    return text


def is_visible(text: str) -> bool:
    """Whether anything in `text` would be drawn: not only spaces, format or filler characters."""
    return any(
        not (ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) in ("Cf", "Zs", "Zl", "Zp", "Mn"))
        for ch in text
    )


def clean_model_text(text: str) -> str:
    """Text from a model or a server, made safe to store and send: never raises.

    Lone surrogates become U+FFFD, control characters (but tab and line feed) and bidi controls
    are dropped, and the result is NFC.
    """
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    if _CONTROLS.search(text):
        text = _CONTROLS.sub("", text.replace("\r\n", "\n"))
    if not BIDI_CONTROLS.isdisjoint(text):
        text = "".join(ch for ch in text if ch not in BIDI_CONTROLS)
    return unicodedata.normalize("NFC", text)


class SurrogateJoiner:
    """Rejoins a surrogate pair split across two streamed fragments ("\\ud83d" then "\\ude00"),
    which a JSON stream may send, before `clean_model_text` would replace each half."""

    def __init__(self) -> None:
        self._held = ""

    def feed(self, fragment: str) -> str:
        fragment = self._held + fragment
        self._held = ""
        if fragment and "\ud800" <= fragment[-1] <= "\udbff":  # a high surrogate waiting for its pair
            fragment, self._held = fragment[:-1], fragment[-1]
        if _SURROGATES.search(fragment):  # pairs become one character, lone halves U+FFFD
            fragment = fragment.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return clean_model_text(fragment)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return clean_model_text(held)
