"""Refuse request bodies past a limit with 413, before anything reads them into memory."""

from __future__ import annotations

DEFAULT_LIMIT = 1024 * 1024  # forms here are small; uploads would get their own route and limit


class _TooLarge(Exception):
    pass


class RequestSizeLimitMiddleware:
    """`larger`: paths that take more (an upload's own route and limit), path -> bytes."""

    def __init__(self, app, max_bytes: int = DEFAULT_LIMIT, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.larger.get(scope.get("path", ""), self.max_bytes)
        if limit != self.max_bytes:
            return await RequestSizeLimitMiddleware(self.app, limit)(scope, receive, send)
        for key, value in scope["headers"]:
            if key.lower() == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    return await _send_413(scope, send, self.max_bytes)
        received = 0
        response_started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
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
                await _send_413(scope, send, self.max_bytes)


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
