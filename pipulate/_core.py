"""The core that plugins see: settings, the database, the store, profiles and the other plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastlite.core import Database

import logging
from dataclasses import dataclass, field

from ._chat.pages import Pages
from ._chat.queue import Chat
from ._config import Settings
from ._plugins import Plugin
from ._profiles import Profiles
from ._store import Store

LAST_APP_KEY = "last_app"
log = logging.getLogger("pipulate")


@dataclass
class Core:
    settings: Settings
    db: Database
    store: Store
    profiles: Profiles
    chat: Chat  # chatq: speak to the user from anywhere
    pages: Pages  # the open browser tabs (their WebSockets)
    plugins: dict[str, Plugin] = field(default_factory=dict)  # by name, in menu order
    socket_actions: dict = field(default_factory=dict)  # page-socket action -> handler
    workflows: object = None  # the WorkflowService, when any workflow is installed
    plugin_errors: list = field(default_factory=list)  # plugins that failed to load (shown in the page)

    @property
    def menu(self) -> list[Plugin]:
        return [plugin for plugin in self.plugins.values() if plugin.in_menu]

    def current_app(self) -> Plugin:
        """The app opened last (kept in the store), else the first in the menu."""
        name = self.store.get(LAST_APP_KEY)
        if name in self.plugins and self.plugins[name].in_menu:
            return self.plugins[name]
        return self.menu[0]

    def open_app(self, plugin: Plugin) -> None:
        """Remember the app a page opened (what the next visit to / shows). Best effort: a
        store that cannot be written (a full disk) must not fail the page that was asked for."""
        try:
            if self.store.get(LAST_APP_KEY) != plugin.name:
                self.store[LAST_APP_KEY] = plugin.name
        except Exception as error:  # apsw.Error: the disk is full, the file is locked, ...
            log.warning("could not remember the last opened app: %s", error)

    def page_app(self, request) -> Plugin:
        """The app the requesting page shows (from htmx's HX-Current-URL), else the current one."""
        from urllib.parse import urlsplit

        path = urlsplit(request.headers.get("hx-current-url", "")).path
        name = path.strip("/").split("/")[0]
        plugin = self.plugins.get(name)
        return plugin if plugin is not None and plugin.in_menu else self.current_app()

    async def panel_response(self, plugin: Plugin, request, panel, title: str | None = None):
        """`panel` as the app's panel: alone (with the menu's new state) for htmx, else in the
        whole page. Plugins use it for pages of their own, like a workflow's run."""
        from fasthtml.common import Title

        from ._ui.layout import app_menu, page, page_title

        is_htmx = "hx-request" in request.headers and "hx-history-restore-request" not in request.headers
        if is_htmx:
            return panel, app_menu(self, plugin.name, oob=True), Title(title or page_title(self, plugin))
        return page(self, plugin, panel, asides=await self.asides(request), live=self.settings.live, title=title)

    async def page_parts(self, request) -> tuple:
        """What redraws a page for the profile it now shows: the app's panel (for #app-panel),
        then out-of-band swaps of the profile switcher and of what sits beside the app (chat)."""
        from ._ui.layout import profile_switcher

        panel = await self.page_app(request).render(request)
        return panel, profile_switcher(self, oob=True), *await self.asides(request, oob=True)

    async def asides(self, request, oob: bool = False) -> list:
        """What plugins show beside every app (the chat), each in an <aside id="aside-NAME">."""
        from ._ui.layout import aside_frame

        frames = []
        for plugin in self.plugins.values():
            content = await plugin.aside(request)
            if content is not None:
                frames.append(aside_frame(plugin, content, oob=oob))
        return frames
