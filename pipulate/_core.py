"""The core that plugins see: settings, the database, the store, profiles and the other plugins."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastlite.core import Database

from ._config import Settings
from ._plugins import Plugin
from ._profiles import Profiles
from ._store import Store

LAST_APP_KEY = "last_app"


@dataclass
class Core:
    settings: Settings
    db: Database
    store: Store
    profiles: Profiles
    plugins: dict[str, Plugin] = field(default_factory=dict)  # by name, in menu order

    def current_app(self) -> Plugin:
        """The app opened last (kept in the store), else the first in the menu."""
        name = self.store.get(LAST_APP_KEY)
        if name in self.plugins:
            return self.plugins[name]
        return next(iter(self.plugins.values()))

    def open_app(self, plugin: Plugin) -> None:
        if self.store.get(LAST_APP_KEY) != plugin.name:
            self.store[LAST_APP_KEY] = plugin.name
