"""The page's one WebSocket (/ws): chat, chatq messages and progress all travel on it.

A frame from the page is JSON with an "action" (htmx's ws-send sends the form's fields). Each
action is handled by the plugin that declared it with `@route.socket(action)`. A frame that is
too large, not JSON, or names an unknown action gets a readable reply and goes nowhere else.
"""

from __future__ import annotations

import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from .._errors import DISK_FULL_MESSAGE, UserError, is_disk_full
from .._json_input import BadJSON, loads_limited
from .._profiles import page_profile_id, parse_page_profile
from .._text import clean_model_text
from .fragments import error_html
from .pages import Page

log = logging.getLogger("pipulate.socket")
MAX_FRAME_BYTES = 64 * 1024


class PageSocket:
    def __init__(self, pages, actions: dict) -> None:
        self.pages = pages
        self.actions = actions  # action name -> async handler(page, frame)

    async def endpoint(self, websocket: WebSocket) -> None:
        # The Host/Origin guard (LocalOnlyMiddleware) has already refused foreign handshakes.
        await websocket.accept()
        page = Page(websocket)
        self.pages.add(page)
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                await self.dispatch(page, message.get("text"), message.get("bytes"))
        except WebSocketDisconnect:
            pass
        finally:
            self.pages.remove(page)  # cancels what still runs for it: the upstream request closes

    async def dispatch(self, page: Page, text: str | None, data: bytes | None) -> None:
        """Handle one frame. Nothing a client sends may end the socket or reach the log as a
        traceback: every refusal is a readable frame in the page."""
        if text is None:
            return await page.send(error_html("This socket takes JSON text frames, not binary ones."))
        if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            return await page.send(error_html(f"That message is too large (the limit is {MAX_FRAME_BYTES // 1024} KB)."))
        try:
            frame = loads_limited(text)
        except BadJSON as error:
            return await page.send(error_html(f"That frame was refused: {error}"))
        if not isinstance(frame, dict):
            return await page.send(error_html("A frame must be a JSON object with an \"action\"."))
        action = frame.get("action")
        handler = self.actions.get(action) if isinstance(action, str) else None
        if handler is None:
            known = ", ".join(sorted(self.actions)) or "none"
            if action is None:
                return await page.send(error_html(f"A frame needs an \"action\" (known: {known})."))
            shown = repr(clean_model_text(action)[:40]) if isinstance(action, str) else f"of type {type(action).__name__}"
            return await page.send(error_html(f"Unknown action {shown} (known: {known})."))
        # The frame says which profile its page shows (pipulate.js adds it to htmx's HEADERS).
        headers = frame.get("HEADERS")
        shown_profile = headers.get("X-Pipulate-Profile") if isinstance(headers, dict) else None
        shown = parse_page_profile(shown_profile) if isinstance(shown_profile, str) else None
        if shown:  # what this page shows now: replies and other news of that profile reach it
            page.profile_id = shown
        elif shown is None:  # a frame that does not say acts on what its page last said it shows
            shown = page.profile_id
        token = page_profile_id.set(shown)
        try:
            await handler(page, frame)
        except UserError as error:
            await page.send(error_html(error.message))
        except Exception as error:
            if is_disk_full(error):
                log.warning("socket action %r: the disk is full", action)
                await page.send(error_html(DISK_FULL_MESSAGE))
            else:
                log.exception("socket action %r failed", action)
                await page.send(error_html("Something went wrong on the server; the details are in its log."))
        finally:
            page_profile_id.reset(token)
