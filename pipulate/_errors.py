"""Errors a user can cause, and the checks that raise them.

Raising `UserError` (or `NotFound`) anywhere in a handler ends the request with a 4xx and a
readable message; `pipulate._ui.errors` renders it. Checks run before anything is written, so a
refused request changes nothing.
"""

from __future__ import annotations

DISK_FULL_MESSAGE = "The disk is full; nothing was saved. Free some space, then try again."


def quoted(value: object, limit: int = 60) -> str:
    """A name inside a sentence: “like this”, as typed (not Python's 'repr\\'s' quoting). What cannot
    be shown (control characters, a lone surrogate from a hostile request) is spelled out as \\u...
    escapes: the sentence must always be sendable."""
    text = str(value)
    shown = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text[:limit])
    return f"“{shown}{'…' if len(text) > limit else ''}”"


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


def parse_int(value: object, *, field: str, minimum: int, maximum: int) -> int:
    """A whole number from a form or JSON, within [minimum, maximum]; anything else is a 422."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 18):
        raise UserError(f"{field} must be a whole number between {minimum} and {maximum}.")
    number = int(text)
    if not minimum <= number <= maximum:
        raise UserError(f"{field} must be between {minimum} and {maximum}, not {number}.")
    return number


def parse_id(value: object, *, field: str = "id") -> int:
    """An integer id from a form or path; anything else is a 404, as an unknown id would be."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise NotFound(f"No such {field}: {quoted(value, 40)}.") from None
    if not 0 < number < 2**63:
        raise NotFound(f"No such {field}: {number}.")
    return number


def is_disk_full(error: BaseException) -> bool:
    """Whether a failed write failed for lack of room (SQLite's SQLITE_FULL)."""
    import apsw

    return isinstance(error, apsw.FullError)
