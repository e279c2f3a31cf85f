"""The open pages: one WebSocket per browser tab, and the registry that reaches them all.

Sends to one page are serialised by a lock (two tasks may speak to the same tab: a reply and a
chatq progress bar). Tasks started for a page (a reply streaming) are cancelled when it closes,
which closes their upstream request too.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re

from starlette.websockets import WebSocket, WebSocketState

log = logging.getLogger("pipulate.pages")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ids = itertools.count(1)


class Page:
    def __init__(self, websocket: WebSocket) -> None:
        self.id = next(_ids)
        self.websocket = websocket
        self.tasks: set[asyncio.Task] = set()
        self._send_lock = asyncio.Lock()

    async def send(self, html: str) -> bool:
        """Send a fragment; False when the page has gone (the caller may stop working for it)."""
        if self.websocket.client_state != WebSocketState.CONNECTED:
            return False
        if _SURROGATE.search(html):  # cannot be sent as UTF-8; callers clean text, this is the last guard
            html = _SURROGATE.sub("\ufffd", html)
        try:
            async with self._send_lock:
                await self.websocket.send_text(html)
            return True
        except Exception:  # the tab closed between the check and the send
            return False

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

    def add(self, page: Page) -> None:
        self._pages[page.id] = page

    def remove(self, page: Page) -> None:
        self._pages.pop(page.id, None)
        page.cancel_tasks()

    def __len__(self) -> int:
        return len(self._pages)

    def __iter__(self):
        return iter(list(self._pages.values()))

    async def broadcast(self, html: str) -> int:
        """Send to every open page; answers how many received it."""
        results = await asyncio.gather(*(page.send(html) for page in self), return_exceptions=True)
        return sum(1 for result in results if result is True)


def _log_failure(task: asyncio.Task) -> None:
    # A task's failure is logged once here, never as "Task exception was never retrieved".
    if not task.cancelled() and task.exception() is not None:
        log.error("the page task %r failed", task.get_name(), exc_info=task.exception())
