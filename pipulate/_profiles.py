"""Profiles: who the data belongs to, which one a page shows, and which one new pages open with.

Two ideas kept apart:
- the **stored selection** (in the store): what a newly opened page shows. Switching profiles in
  a page changes it, so it survives reloads and restarts;
- the **page's profile**: every request from a page says which profile that page shows (the
  `X-Pipulate-Profile` header, set by pipulate.js; the same on WebSocket frames). A stale tab
  that still shows profile X acts on X even after another tab switched to Y; if X was deleted
  meanwhile, the request is refused as out of date (409) instead of landing somewhere else.

`Profiles.selected()` answers the profile the current request acts on: the page's profile when
the request names one, else the stored selection (scripts, notebooks, a page's first load).
Every per-profile query takes that profile's id explicitly.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

import logging
from dataclasses import dataclass

from ._errors import NotFound, UserError
from ._text import clean_text

PROFILE_NAME_LIMIT = 60
SELECTED_PROFILE_KEY = "last_profile_id"
DEFAULT_PROFILE_NAME = "Default"
PAGE_PROFILE_HEADER = "x-pipulate-profile"
log = logging.getLogger("pipulate")

# The profile shown by the page that sent the request being handled (None: the page did not say).
# Set per request by PageProfileMiddleware and per WebSocket frame by the page socket.
page_profile_id: ContextVar[int | None] = ContextVar("pipulate_page_profile_id", default=None)


class PageOutOfDate(UserError):
    """The page shows a profile that no longer exists: nothing was done; show the current one."""

    status_code = 409


@dataclass(frozen=True)
class Profile:
    id: int
    name: str


class Profiles:
    def __init__(self, db: Database, store) -> None:
        self._db = db
        self._store = store
        self._deletion_hooks = []

    def on_delete(self, hook) -> None:
        """Register `hook(profile_id)`, called inside the deleting transaction."""
        self._deletion_hooks.append(hook)

    def all(self) -> list[Profile]:
        rows = self._db.execute("SELECT id, name FROM profiles ORDER BY position, id").fetchall()
        return [Profile(*row) for row in rows]

    def get(self, profile_id: int) -> Profile:
        rows = self._db.execute("SELECT id, name FROM profiles WHERE id = ?", [profile_id]).fetchall()
        if not rows:
            raise NotFound(f"No such profile: {profile_id}.")
        return Profile(*rows[0])

    def exists(self, profile_id: int) -> bool:
        return bool(self._db.execute("SELECT 1 FROM profiles WHERE id = ?", [profile_id]).fetchall())

    def create(self, name: object) -> Profile:
        name = clean_text(name, field="Profile name", max_length=PROFILE_NAME_LIMIT)
        self._refuse_duplicate(name)
        cursor = self._db.execute(
            "INSERT INTO profiles (name, position) "
            "VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM profiles)) RETURNING id",
            [name],
        )
        return Profile(cursor.fetchall()[0][0], name)

    def rename(self, profile_id: int, name: object) -> Profile:
        name = clean_text(name, field="Profile name", max_length=PROFILE_NAME_LIMIT)
        self.get(profile_id)
        self._refuse_duplicate(name, except_id=profile_id)
        self._db.execute("UPDATE profiles SET name = ? WHERE id = ?", [name, profile_id])
        return Profile(profile_id, name)

    def delete(self, profile_id: int) -> None:
        """Delete a profile and everything plugins keep for it, in one transaction."""
        self.get(profile_id)
        if len(self.all()) <= 1:
            raise UserError("This is the only profile; create another one before deleting it.")
        with self._db.conn:  # apsw: a transaction, rolled back if a hook fails
            for hook in self._deletion_hooks:
                hook(profile_id)
            self._db.execute("DELETE FROM profiles WHERE id = ?", [profile_id])
        if self._store.get(SELECTED_PROFILE_KEY) == profile_id:
            self.select(self.all()[0].id)
        if page_profile_id.get() == profile_id:
            page_profile_id.set(None)  # the page that deleted its own profile now shows the selection

    def selected(self) -> Profile:
        """The profile this request acts on: the page's (if it said), else the stored selection."""
        shown = page_profile_id.get()
        if shown is None:
            return self.stored_selection()
        if shown < 1:
            raise UserError("The page named its profile in a form this app does not understand.", 400)
        try:
            return self.get(shown)
        except NotFound:
            raise PageOutOfDate(
                "This page was showing a profile that has since been deleted; nothing was done. "
                "The page now shows the current profile."
            ) from None

    def stored_selection(self) -> Profile:
        """What a newly opened page shows; a first run creates the default profile."""
        profile_id = self._store.get(SELECTED_PROFILE_KEY)
        if profile_id is not None:
            try:
                return self.get(profile_id)
            except NotFound:
                pass  # deleted behind our back (another process): fall back below
        profiles = self.all() or [self.create(DEFAULT_PROFILE_NAME)]
        self._store[SELECTED_PROFILE_KEY] = profiles[0].id
        return profiles[0]

    def select(self, profile_id: int) -> Profile:
        """Switch: new pages open with this profile, and so does the page that asked."""
        profile = self.get(profile_id)
        self._store[SELECTED_PROFILE_KEY] = profile.id
        if page_profile_id.get() is not None:
            page_profile_id.set(profile.id)
        return profile

    def _refuse_duplicate(self, name: str, except_id: int | None = None) -> None:
        rows = self._db.execute(
            "SELECT id FROM profiles WHERE lower(name) = lower(?) AND id IS NOT ?",
            [name, except_id],
        ).fetchall()
        if rows:
            raise UserError(f"A profile named “{name}” already exists.")


def parse_page_profile(value: str | None) -> int | None:
    """The header's value as an id; 0 (refused by `selected`) when it is not a positive integer."""
    if value is None or value == "":
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return 0
    return int(value)
