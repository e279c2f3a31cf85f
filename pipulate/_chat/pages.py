"""The open pages: one WebSocket per browser tab, and the registry that reaches them all.

What is sent to a page goes through its own outbox and writer task, in order (two tasks may speak
to the same tab: a reply and a chatq progress bar). A sender never waits for a page to read: a
tab that stops reading (a frozen one, a script that does not read) cannot hold up a reply for
the other tabs of its profile. Past MAX_BACKLOG frames unread, its socket is closed with 1013
("try again later"): the page reconnects and is sent the conversation as it is then.

Tasks a plugin starts for a page (`page.start`) are cancelled when it closes. The chat's replies
are not among them: they belong to a profile (conversation.py).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import re

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger("pipulate.pages")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ids = itertools.count(1)
MAX_BACKLOG = 2000  # frames a page may leave unread before it is disconnected


class Page:
    def __init__(self, websocket: WebSocket) -> None:
        self.id = next(_ids)
        self.websocket = websocket
        self.tasks: set[asyncio.Task] = set()
        self._outbox: collections.deque[str] = collections.deque()
        self._ready = asyncio.Event()  # something is in the outbox
        self._writer: asyncio.Task | None = None
        self.closed = False
        # The profile the page shows, as its frames say (None until one does: a script's
        # socket, or a page that has not said hello yet, follows the stored selection).
        self.profile_id: int | None = None
        self.token = ""  # the page's own name for itself (pipulate.js), also on its HTTP requests

    async def send(self, html: str) -> bool:
        """Queue a fragment for the page (sent in order, at once when the page keeps up);
        False when the page has gone."""
        if self.closed or self.websocket.client_state != WebSocketState.CONNECTED:
            return False
        if _SURROGATE.search(html):  # cannot be sent as UTF-8; callers clean text, this is the last guard
            html = _SURROGATE.sub("\ufffd", html)
        if len(self._outbox) >= MAX_BACKLOG:
            log.warning("page %s stopped reading (%d frames waiting): disconnected", self.id, len(self._outbox))
            self.disconnect(1013)
            return False
        self._outbox.append(html)
        self._ready.set()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name=f"page {self.id} writer")
        await asyncio.sleep(0)  # let the writer send it now: no token waits for the next one
        return True

    async def _write(self) -> None:
        try:
            while not self.closed:
                await self._ready.wait()
                self._ready.clear()
                while self._outbox:
                    await self.websocket.send_text(self._outbox.popleft())
        except Exception:  # the tab closed while we wrote to it
            self.closed = True

    def disconnect(self, code: int = 1000) -> None:
        """Stop sending; close the socket (without waiting on a page that does not read)."""
        self.closed = True
        self._outbox.clear()
        if self._writer is not None:
            self._writer.cancel()

        async def close() -> None:
            # Sent behind what the page has not read yet: it sees the close once it reads again.
            try:
                await self.websocket.close(code)
            except Exception:  # already closed, or the peer is gone
                pass

        asyncio.get_running_loop().create_task(close())

    def start(self, coroutine, name: str | None = None) -> asyncio.Task:
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(_log_failure)
        return task

    def cancel_tasks(self) -> int:
        running = [task for task in self.tasks if not task.done()]
        for task in running:
            task.cancel()
        return len(running)


class Pages:
    def __init__(self) -> None:
        self._pages: dict[int, Page] = {}
        self._close_hooks = []

    def on_close(self, hook) -> None:
        """Call `hook(page)` after a page has gone (its socket closed)."""
        self._close_hooks.append(hook)

    def add(self, page: Page) -> None:
        self._pages[page.id] = page

    def remove(self, page: Page) -> None:
        self._pages.pop(page.id, None)
        page.cancel_tasks()
        page.closed = True
        if page._writer is not None:
            page._writer.cancel()
        for hook in self._close_hooks:
            try:
                hook(page)
            except Exception:  # one hook's bug must not keep the others from running
                log.exception("a page-close hook failed")

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self):
        return iter(list(self._pages.values()))

    async def broadcast(self, html: str) -> int:
        """Send to every open page; answers how many received it."""
        return await self.send_to(list(self), html)

    def showing(self, profile_id: int, selection: int | None = None) -> list[Page]:
        """The open pages that show `profile_id` (a page that has not said which shows
        `selection`, the stored one)."""
        return [page for page in self if (page.profile_id if page.profile_id is not None else selection) == profile_id]

    async def broadcast_to_profile(self, profile_id: int, html: str, selection: int | None = None,
                                   but: Page | None = None) -> int:
        """Send to every open page that shows `profile_id` (two tabs of one profile stay in sync)."""
        return await self.send_to([p for p in self.showing(profile_id, selection) if p is not but], html)

    @staticmethod
    async def send_to(pages: list[Page], html: str) -> int:
        if len(pages) == 1:  # the usual case (one tab): no task per send, a token goes out at once
            return int(await pages[0].send(html) is True)
        results = await asyncio.gather(*(page.send(html) for page in pages), return_exceptions=True)
        return sum(1 for result in results if result is True)


def _log_failure(task: asyncio.Task) -> None:
    # A task's failure is logged once here, never as "Task exception was never retrieved".
    if not task.cancelled() and task.exception() is not None:
        log.error("the page task %r failed", task.get_name(), exc_info=task.exception())
