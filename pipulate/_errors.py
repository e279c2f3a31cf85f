"""Errors a user can cause, and the checks that raise them.

Raising `UserError` (or `NotFound`) anywhere in a handler ends the request with a 4xx and a
readable message; `pipulate._ui.errors` renders it. Checks run before anything is written, so a
refused request changes nothing.
"""

from __future__ import annotations

import unicodedata


class UserError(Exception):
    """Something the user sent cannot be accepted. The message is shown as it is (escaped)."""

    status_code = 422

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code


class NotFound(UserError):
    """An id that does not exist, or that belongs to another profile: the two look the same."""

    status_code = 404


def clean_text(value: object, *, field: str, max_length: int) -> str:
    """A one-line text from a form: stripped, non-empty, at most `max_length` characters."""
    if not isinstance(value, str):
        raise UserError(f"{field} must be text.")
    text = " ".join(value.split())  # newlines and runs of spaces become one space
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise UserError(f"{field} contains control characters.")
    if not text:
        raise UserError(f"{field} cannot be empty.")
    if len(text) > max_length:
        raise UserError(
            f"{field} is {len(text)} characters long; the limit is {max_length}. Nothing was saved."
        )
    return text


def parse_id(value: object, *, field: str = "id") -> int:
    """An integer id from a form or path; anything else is a 404, as an unknown id would be."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise NotFound(f"No such {field}: {str(value)[:40]!r}.") from None
    if not 0 < number < 2**63:
        raise NotFound(f"No such {field}: {number}.")
    return number
