"""chatq: how server code and background tasks speak to the user, without knowing about sockets.

    await core.chat.say("Crawl finished: 120 pages.")              # every open tab
    await core.chat.say("Saved.", keep=True)                       # ...and kept in the history
    async with core.chat.progress("Crawling", total=120) as progress:
        for url in urls:
            await crawl(url)
            await progress.advance(note=url)
    core.chat.say_soon("Done")                                      # from a worker thread

Messages reach every open page of the app (it is a one-person, local app); a page opened later
sees the kept ones in its history.
"""

from __future__ import annotations

import asyncio
import itertools

from .fragments import notice_html, progress_html
from .history import ChatHistory
from .pages import Pages

_progress_ids = itertools.count(1)


class Chat:
    def __init__(self, pages: Pages, history: ChatHistory, profiles) -> None:
        self.pages = pages
        self.history = history
        self._profiles = profiles
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the server starts

    async def say(self, text: str, *, keep: bool = False) -> int:
        """Show `text` (Markdown, escaped) in every open page's conversation; returns how many got it."""
        if keep:
            self.history.add(self._profiles.selected().id, "notice", text)
        if not len(self.pages):
            return 0  # nobody to tell: skip rendering (the todo app says something on every add)
        return await self.pages.broadcast(notice_html(text))

    def say_soon(self, text: str, *, keep: bool = False) -> None:
        """`say` from anywhere: a worker thread, or sync code on the event loop."""
        if self.loop is None:
            raise RuntimeError("chat.say_soon needs the running server")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.loop.create_task(self.say(text, keep=keep))
        else:
            asyncio.run_coroutine_threadsafe(self.say(text, keep=keep), self.loop)

    def progress(self, label: str, total: int | None = None) -> "Progress":
        return Progress(self.pages, label, total)


class Progress:
    """A progress bar in every open page, updated in place. Use as `async with`."""

    def __init__(self, pages: Pages, label: str, total: int | None) -> None:
        self._pages = pages
        self.label = label
        self.total = total
        self.done = 0
        self.element_id = f"progress-{next(_progress_ids)}"
        self._shown = False

    async def __aenter__(self) -> "Progress":
        await self.update(0)
        return self

    async def __aexit__(self, kind, error, traceback) -> None:
        note = "done" if error is None else ("stopped" if kind is asyncio.CancelledError else "failed")
        await self.update(self.done, note=note)

    async def advance(self, step: int = 1, note: str = "") -> None:
        await self.update(self.done + step, note)

    async def update(self, done: int, note: str = "") -> None:
        self.done = done
        first = not self._shown
        self._shown = True
        await self._pages.broadcast(progress_html(self.element_id, self.label, done, self.total, note, first))
