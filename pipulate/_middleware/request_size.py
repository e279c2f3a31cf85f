"""Refuse request bodies past a limit with 413, before anything reads them into memory."""

from __future__ import annotations

import re

DEFAULT_LIMIT = 1024 * 1024  # forms here are small; a workflow step's file upload gets UPLOAD_LIMIT


class _TooLarge(Exception):
    pass


UPLOAD_LIMIT = 50 * 1024 * 1024
# A workflow step's form may carry files (a multipart POST to /<workflow>/runs/<key>/steps/<step>).
UPLOAD_PATH = re.compile(r"^/[a-z][a-z0-9_-]{0,39}/runs/[a-z0-9_-]{1,200}/steps/[A-Za-z_][A-Za-z0-9_]{0,100}$")


class RequestSizeLimitMiddleware:
    """`larger`: paths that take more, path -> bytes (a profile file being imported)."""

    def __init__(self, app, max_bytes: int = DEFAULT_LIMIT, upload_bytes: int = UPLOAD_LIMIT,
                 larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.larger = larger or {}

    def limit(self, scope) -> int:
        """1 MB for every request, but a multipart POST of a step's form (files) gets more, and
        so do the paths in `larger`."""
        if scope.get("path", "") in self.larger:
            return self.larger[scope["path"]]
        if scope.get("method") == "POST" and UPLOAD_PATH.match(scope.get("path", "")):
            content_type = next((v for k, v in scope["headers"] if k.lower() == b"content-type"), b"")
            if content_type.lower().startswith(b"multipart/form-data"):
                return self.upload_bytes
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope)
        for key, value in scope["headers"]:
            if key.lower() == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    return await _send_413(scope, send, limit)
        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge  # a chunked body that grew past the limit
            return message

        async def tracking_send(message):
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await _send_413(scope, send, limit)


async def _send_413(scope, send, limit: int) -> None:
    # The same answer as every other error of the app: for htmx, a message in the page's message
    # area (HX-Retarget), not swapped into the form's target.
    from starlette.requests import Request

    from .._ui.errors import error_response

    message = f"Request too large: the limit is {limit} bytes. Nothing was saved."
    response = error_response(Request(scope), message, 413)

    async def no_body():
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
