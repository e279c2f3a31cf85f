"""A dict-like key/value store in the app's database: the server-side "cookie".

    store["last_profile_id"] = 3
    "last_app" in store
    store.get("theme", "light")
    del store["last_app"]
    for key in store: ...

Values are stored as JSON, so numbers, strings, lists and dicts come back as they went in.
Every write is its own committed statement: it survives a reload, a restart and a kill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

import json
from collections.abc import Iterator, MutableMapping

_MISSING = object()


class Store(MutableMapping):
    def __init__(self, db: Database, table: str = "store") -> None:
        self._db = db
        self._table = table

    def __getitem__(self, key: str):
        rows = self._db.execute(
            f"SELECT value FROM [{self._table}] WHERE key = ?", [_check_key(key)]
        ).fetchall()
        if not rows:
            raise KeyError(key)
        return json.loads(rows[0][0])

    def __setitem__(self, key: str, value) -> None:
        text = json.dumps(value)  # fails early (TypeError) on what JSON cannot hold
        self._db.execute(
            f"INSERT INTO [{self._table}] (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [_check_key(key), text],
        )

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._db.execute(f"DELETE FROM [{self._table}] WHERE key = ?", [key])

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        rows = self._db.execute(
            f"SELECT 1 FROM [{self._table}] WHERE key = ?", [key]
        ).fetchall()
        return bool(rows)

    def __iter__(self) -> Iterator[str]:
        keys = self._db.execute(f"SELECT key FROM [{self._table}] ORDER BY key").fetchall()
        return iter([row[0] for row in keys])

    def __len__(self) -> int:
        return self._db.execute(f"SELECT count(*) FROM [{self._table}]").fetchall()[0][0]

    def get(self, key: str, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"Store({dict(self.items())!r})"


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"store keys are strings, not {type(key).__name__}")
    return key
