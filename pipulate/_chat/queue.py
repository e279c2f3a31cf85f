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

from .fragments import activity_html, notice_html, progress_html
from .history import ChatHistory
from .pages import Pages

_progress_ids = itertools.count(1)


class Chat:
    def __init__(self, pages: Pages, history: ChatHistory, profiles) -> None:
        self.pages = pages
        self.history = history
        self._profiles = profiles
        self.loop: asyncio.AbstractEventLoop | None = None  # set when the server starts
        self._live: dict[str, tuple] = {}  # progress bars still moving: element id -> their state
        self.conversation = None  # the chat app's, when it is installed

    async def activity(self, text: str, profile_id: int | None = None) -> int:
        """Tell the pages of a profile (the requesting page's by default) what the app just did,
        on a small line apart from the conversation: plain text, never kept, never sent to the
        model. A todo's title `**x**` shows as typed."""
        if not len(self.pages):
            return 0
        profile_id = self._profiles.selected().id if profile_id is None else profile_id
        selection = self._profiles.stored_selection().id
        return await self.pages.broadcast_to_profile(profile_id, activity_html(text), selection)

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
        return Progress(self, label, total)

    async def show_progress(self, element_id: str, label: str, done: int, total: int | None, note: str = "",
                            finished: bool = False, counter: str | None = None) -> int:
        """Draw (or update in place) a progress bar in every open page's conversation. Bars
        still moving are remembered, so a page opened or reloaded meanwhile shows them too."""
        first = element_id not in self._live
        if finished:
            self._live.pop(element_id, None)
            total = total or max(done, 1)  # a bar that stops moving: never left "indeterminate"
            done = done if note == "done" or done <= total else total
        else:
            self._live[element_id] = (label, done, total, note, counter)
        return await self.pages.broadcast(progress_html(element_id, label, done, total, note, first, counter=counter))

    def live_progress_html(self) -> str:
        """The bars still moving, for a page being drawn (they then update in place)."""
        return "".join(
            progress_html(element_id, label, done, total, note, first=True, in_place=True, counter=counter)
            for element_id, (label, done, total, note, counter) in self._live.items()
        )


class Progress:
    """A progress bar in every open page, updated in place. Use as `async with`."""

    def __init__(self, chat: Chat, label: str, total: int | None) -> None:
        self._chat = chat
        self.label = label
        self.total = total
        self.done = 0
        self.element_id = f"progress-{next(_progress_ids)}"

    async def __aenter__(self) -> "Progress":
        await self.update(0)
        return self

    async def __aexit__(self, kind, error, traceback) -> None:
        note = "done" if error is None else ("stopped" if kind is asyncio.CancelledError else "failed")
        await self.update(self.done, note=note, finished=True)

    async def advance(self, step: int = 1, note: str = "") -> None:
        await self.update(self.done + step, note)

    async def update(self, done: int, note: str = "", finished: bool = False) -> None:
        self.done = done
        await self._chat.show_progress(self.element_id, self.label, done, self.total, note, finished)
