"""Note which profile the requesting page shows (X-Pipulate-Profile), for `Profiles.selected()`.

pipulate.js puts the header on every htmx request of a page. The value only says which of the
user's profiles the page shows; a foreign site cannot send it (custom headers need a CORS
preflight, which this app never grants).
"""

from __future__ import annotations

from .._profiles import PAGE_PROFILE_HEADER, page_profile_id, parse_page_profile

_HEADER = PAGE_PROFILE_HEADER.encode()


class PageProfileMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        values = [value for key, value in scope["headers"] if key.lower() == _HEADER]
        if not values:
            shown = None
        elif len(values) > 1:
            shown = 0  # two answers to one question: refused by Profiles.selected()
        else:
            shown = parse_page_profile(values[0].decode("latin-1"))
        token = page_profile_id.set(shown)
        try:
            await self.app(scope, receive, send)
        finally:
            page_profile_id.reset(token)
