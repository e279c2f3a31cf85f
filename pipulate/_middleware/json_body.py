"""Refuse JSON bodies the app's parser would choke on, before any handler reads them.

FastHTML parses a JSON body with `json.loads`, which recurses per nesting level: a body of
200,000 `[` (well under the size limit) raised RecursionError and answered 500 with a
traceback. Here the body (already capped by RequestSizeLimitMiddleware) is read once, checked
for valid UTF-8 and nesting depth, then handed on unchanged.
"""

from __future__ import annotations

from .._json_input import MAX_DEPTH, nesting_depth


class JSONBodyCheckMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not _is_json(scope):
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away mid-body
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = _problem(body)
        if problem:
            return await _send_400(scope, send, problem)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as servers do

        await self.app(scope, replay, send)


def _is_json(scope) -> bool:
    for key, value in scope["headers"]:
        if key.lower() == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


def _problem(body: bytes) -> str | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "The request body is not valid UTF-8. Nothing was saved."
    if nesting_depth(text) > MAX_DEPTH:
        return f"The JSON body is nested more than {MAX_DEPTH} levels deep. Nothing was saved."
    return None


async def _send_400(scope, send, message: str) -> None:
    from starlette.requests import Request

    from .._ui.errors import error_response

    response = error_response(Request(scope), message, 400)

    async def no_body():
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
