"""Profiles: who the data belongs to, and which one is selected.

Every per-profile query takes the profile id explicitly (never state stored on a shared table
object), and the selected profile lives in the store, so it survives reloads and restarts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

from dataclasses import dataclass

from ._errors import NotFound, UserError, clean_text
from ._store import Store

PROFILE_NAME_LIMIT = 60
SELECTED_PROFILE_KEY = "last_profile_id"
DEFAULT_PROFILE_NAME = "Default"


@dataclass(frozen=True)
class Profile:
    id: int
    name: str


class Profiles:
    def __init__(self, db: Database, store: Store) -> None:
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
        rows = self._db.execute(
            "SELECT id, name FROM profiles WHERE id = ?", [profile_id]
        ).fetchall()
        if not rows:
            raise NotFound(f"No such profile: {profile_id}.")
        return Profile(*rows[0])

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

    def selected(self) -> Profile:
        """The selected profile; a first run creates the default one."""
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
        profile = self.get(profile_id)
        self._store[SELECTED_PROFILE_KEY] = profile.id
        return profile

    def _refuse_duplicate(self, name: str, except_id: int | None = None) -> None:
        rows = self._db.execute(
            "SELECT id FROM profiles WHERE lower(name) = lower(?) AND id IS NOT ?",
            [name, except_id],
        ).fetchall()
        if rows:
            raise UserError(f"A profile named {name!r} already exists.")
